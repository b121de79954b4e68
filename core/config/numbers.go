package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// This file models how the two generations of OpenSearch read a plain YAML
// scalar's text; scalar (component.go) compares their readings.

// yaml11Bool reads the booleans of SnakeYAML's YAML 1.1 resolver (its BOOL
// pattern), which OpenSearch 3.6 and earlier read as booleans and 3.7 and
// later restored (OpenSearchYamlParser): yes, no, on, off, true and false,
// each in lower case, capitalized or upper case. yaml.v3 reads yes, no, on
// and off as text, so enable_ssl: yes reached a realm as the text "yes".
func yaml11Bool(text string) (value, ok bool) {
	switch text {
	case "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE":
		return true, true
	case "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

// A reading is what one generation of OpenSearch reads for a plain
// scalar: text (a string), a number (a *big.Int, or a float64, infinite
// when the number is too large for one), or, when ok is false, a number
// that Java cannot read, so that OpenSearch refuses the file.
type reading struct {
	v  any
	ok bool
}

// readings returns what OpenSearch 3.6 and earlier (os36) and 3.7 and
// later (os37) read for a plain scalar's text.
//
// Up to 3.6, OpenSearch reads YAML with Jackson 2 on SnakeYAML, whose
// resolver (org.yaml.snakeyaml.resolver.Resolver, 1.31 and later) follows
// YAML 1.1: integers in bases 2 (0b), 8 (a leading 0), 16 (0x) and 60
// (1:30), and underscores between digits. Jackson (2.12 and later) decodes
// an integer in its base, exactly, and keeps a base 60 one as text; it
// hands a float's text, underscores and a leading + removed, to Java's
// Double.parseDouble, which reads neither .inf, .nan, base 60 nor "._",
// and reads 1e999 as Infinity.
//
// From 3.7, OpenSearch reads YAML with Jackson 3 on snakeyaml-engine's
// JsonScalarResolver (YAML 1.2's JSON schema): only -?(0|[1-9][0-9]*) is an
// integer, only a JSON-shaped number (or .inf, -.inf, .nan, which
// Double.parseDouble cannot read) is a float, and everything else is text.
func readings(text string) (os36, os37 reading) {
	return yaml11Reading(text), jsonReading(text)
}

var (
	yaml11IntRE   = regexp.MustCompile(`^(?:[-+]?0b_*[01][01_]*|[-+]?0_*[0-7][0-7_]*|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x_*[0-9a-fA-F][0-9a-fA-F_]*|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yaml11FloatRE = regexp.MustCompile(`^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	jsonIntRE     = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)$`)
	jsonFloatRE   = regexp.MustCompile(`^(?:-?(?:0|[1-9][0-9]*)(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|-?\.inf|\.nan)$`)
)

// yaml11Reading is OpenSearch 3.6's reading of a plain scalar (readings).
func yaml11Reading(text string) reading {
	switch {
	case yaml11IntRE.MatchString(text):
		if strings.Contains(text, ":") {
			return reading{text, true} // base 60: Jackson keeps the text
		}
		digits, sign := strings.ReplaceAll(text, "_", ""), ""
		switch digits[0] {
		case '-':
			sign, digits = "-", digits[1:]
		case '+':
			digits = digits[1:]
		}
		base := 10
		switch {
		case strings.HasPrefix(digits, "0b"):
			base, digits = 2, digits[2:]
		case strings.HasPrefix(digits, "0x"):
			base, digits = 16, digits[2:]
		case len(digits) > 1 && digits[0] == '0':
			base = 8
		}
		if i, ok := new(big.Int).SetString(sign+digits, base); ok {
			return reading{i, true}
		}
		return reading{}
	case yaml11FloatRE.MatchString(text):
		if strings.ContainsAny(text, ":iInN") {
			return reading{}
		}
		return javaParseDouble(strings.ReplaceAll(text, "_", ""))
	}
	return reading{text, true}
}

// jsonReading is OpenSearch 3.7's reading of a plain scalar (readings).
func jsonReading(text string) reading {
	switch {
	case jsonIntRE.MatchString(text):
		i, _ := new(big.Int).SetString(text, 10)
		return reading{i, true}
	case jsonFloatRE.MatchString(text):
		if strings.HasSuffix(text, ".inf") || text == ".nan" {
			return reading{}
		}
		return javaParseDouble(text)
	}
	return reading{text, true}
}

// javaParseDouble reads a float's decimal text as Double.parseDouble does: a
// number too large for a float64 is infinite.
func javaParseDouble(text string) reading {
	x, err := strconv.ParseFloat(text, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return reading{}
	}
	return reading{x, true}
}

// equal reports whether r and o are the same reading.
func (r reading) equal(o reading) bool {
	switch v := r.v.(type) {
	case string:
		w, ok := o.v.(string)
		return ok && v == w
	case *big.Int:
		w, ok := o.v.(*big.Int)
		return ok && v.Cmp(w) == 0
	case float64:
		w, ok := o.v.(float64)
		return ok && v == w
	}
	return !o.ok
}

// whole returns the whole number r gives a whole-number setting (order):
// an integer, or text that Jackson converts to one, an optional sign and
// decimal digits ("08" is 8, "+5" is 5). A float is none: realmd refuses
// 1.5 where Jackson would truncate it.
func (r reading) whole() (*big.Int, bool) {
	switch v := r.v.(type) {
	case *big.Int:
		return v, true
	case string:
		if decimalDigitsRE.MatchString(v) {
			return new(big.Int).SetString(v, 10)
		}
	}
	return nil, false
}

// decimalDigitsRE is the text that Jackson converts to a whole number.
var decimalDigitsRE = regexp.MustCompile(`^[-+]?[0-9]+$`)

// finite returns the number in r, written so that both generations read
// it alike, if r is a finite number.
func (r reading) finite() (string, bool) {
	switch v := r.v.(type) {
	case *big.Int:
		return v.String(), true
	case float64:
		if !math.IsInf(v, 0) {
			return numberText(v), true
		}
	}
	return "", false
}

// phrase says what a generation does with r, after "3.6 and earlier". In a
// whole-number setting (whole), text says the number Jackson makes of it.
func (r reading) phrase(whole bool) string {
	switch v := r.v.(type) {
	case string:
		if !whole {
			return fmt.Sprintf("read the text %q", v)
		}
		if i, ok := r.whole(); ok {
			return fmt.Sprintf("read the text %q, which they take as %s", v, i)
		}
		return fmt.Sprintf("read the text %q, which is not a whole number", v)
	case float64:
		if math.IsInf(v, 0) {
			return "read a number too large for a float (" + javaInfinity(v) + ")"
		}
	}
	if n, ok := r.finite(); ok {
		return "read the number " + n
	}
	return "cannot read the number and refuse the file"
}

// differently is the message for a plain scalar that OpenSearch 3.6 and
// earlier read as os36 and 3.7 and later as os37: both readings, and the
// spellings both read alike. In a whole-number setting (whole) those are
// the whole numbers either reads.
func differently(text string, os36, os37 reading, whole bool) string {
	fix := ""
	if whole {
		var nums []string
		for _, r := range []reading{os36, os37} {
			if i, ok := r.whole(); ok && (len(nums) == 0 || nums[0] != i.String()) {
				nums = append(nums, i.String())
			}
		}
		fix = strings.Join(nums, " or ")
	} else {
		fix = fmt.Sprintf("%q in quotes for the text", text)
		n, ok := os36.finite()
		if !ok {
			n, ok = os37.finite()
		}
		if ok {
			fix = n + " for the number, or " + fix
		}
	}
	return fmt.Sprintf("written unquoted, %q is read differently by OpenSearch versions: 3.6 and earlier %s, 3.7 and later %s; write %s",
		text, os36.phrase(whole), os37.phrase(whole), fix)
}

// javaInfinity writes an infinite float64 as Java does.
func javaInfinity(x float64) string {
	if x < 0 {
		return "-Infinity"
	}
	return "Infinity"
}

// numberText writes a finite float64 for a message, in a form both
// generations and yaml.v3 read alike.
func numberText(x float64) string {
	if math.Abs(x) < 1e21 {
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}
