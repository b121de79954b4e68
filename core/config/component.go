package config

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/realmd/realmd/sdk"
)

// component reads an http_authenticator, authentication_backend or
// authorization_backend mapping: `type`, `config`, and for an
// authenticator `challenge` (whose value it stores in *challenge).
// defType is the type when none is written. It also returns the line of
// the type, or of k when none is written.
func (f *file) component(k, v *yaml.Node, path, defType string, challenge *bool) (Component, int) {
	c := Component{Path: path, Pos: Pos{File: f.name, Line: k.Line}, Config: map[string]any{}, KeyLines: map[string]int{}}
	var typeNode *yaml.Node
	fs := fields{
		"type": func(_, v *yaml.Node, p string) {
			typeNode = v
			c.RawType, _ = f.str(v, p)
			if c.RawType == "" && !isNull(v) && v.Kind == yaml.ScalarNode && defType != "" {
				f.errorf(v.Line, p, "is empty; remove it to get the default (%s) or name a type", defType)
			}
		},
		"config": func(_, v *yaml.Node, p string) { c.Config, c.KeyLines = f.configMap(v, p) },
	}
	if challenge != nil {
		fs["challenge"] = func(_, v *yaml.Node, p string) { *challenge = f.boolean(v, p, true) }
	}
	f.object(v, path, fs, nil)
	c.Type = c.RawType
	if c.RawType == "" {
		c.Type = defType
	}
	if typeNode != nil {
		return c, typeNode.Line
	}
	return c, k.Line
}

// canonicalize resolves c's type in slot s. It reports a Java class name
// realmd cannot map, as an error or, for a disabled domain, as a warning.
func (f *file) canonicalize(c *Component, line int, s slot, enabled bool) {
	if c.RawType == "" {
		return
	}
	t, msg := canonicalType(c.RawType, s)
	if msg == "" {
		c.Type = t
		return
	}
	if enabled {
		f.errorf(line, join(c.Path, "type"), "%s", msg)
	} else {
		f.warnf(line, join(c.Path, "type"), "%s (the domain is disabled, so this does not stop loading)", msg)
	}
}

// configMap decodes a free-form `config:` mapping into JSON-like Go values
// (map[string]any, []any, string, bool, float64, nil; see scalar) and
// records the line of every key in the flattened form sdk.Config reports
// problems with: nested maps as dotted keys, list elements as key[i].
func (f *file) configMap(n *yaml.Node, path string) (map[string]any, map[string]int) {
	m, lines := map[string]any{}, map[string]int{}
	if isNull(n) {
		return m, lines
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n.Line, path, "must be a mapping of settings, not %s", describe(n))
		return m, lines
	}
	f.decodeMap(n, path, "", m, lines, 1)
	if !f.overflow {
		f.flatDuplicates(n, path)
	}
	return m, lines
}

// maxConfigDepth bounds how deeply a `config:` map nests. Every level
// records its full flattened key, so without a bound a small file nested
// thousands deep cost memory quadratic in its depth (a 540 KB config.yml
// ran realmd out of memory). No realm reads settings more than a few levels
// down.
const maxConfigDepth = 32

func (f *file) decodeMap(n *yaml.Node, path, flat string, out map[string]any, lines map[string]int, depth int) {
	f.pairs(n, path, func(k, v *yaml.Node, kp string) {
		fk := k.Value
		if flat != "" {
			fk = flat + "." + k.Value
		}
		lines[fk] = k.Line
		out[k.Value] = f.decodeValue(v, kp, fk, lines, depth+1)
	})
}

func (f *file) decodeValue(n *yaml.Node, path, flat string, lines map[string]int, depth int) any {
	if !f.tick(n, path) {
		return nil
	}
	if (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode) && depth > maxConfigDepth {
		f.errorf(n.Line, path, "nested more than %d levels deep; no setting is that deep", maxConfigDepth)
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		f.decodeMap(n, path, flat, m, lines, depth)
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, e := range n.Content {
			fk := fmt.Sprintf("%s[%d]", flat, i)
			e = deref(e)
			lines[fk] = e.Line
			l[i] = f.decodeValue(e, fmt.Sprintf("%s[%d]", path, i), fk, lines, depth+1)
		}
		return l
	}
	return f.scalar(n, path)
}

// scalar converts a scalar node to a JSON value. Numbers are float64, as
// encoding/json decodes them, except whole numbers beyond ±2^53, which a
// float64 would round (12345678901234567 would reach the plugin as
// 12345678901234568): those are kept as their decimal text, the exact value
// OpenSearch reads (Jackson makes them a long or a BigInteger), and reach
// the plugin as strings. sdk.WholeNumber applies that rule, here and in
// the plugin's sdk.NewConfig.
//
// A plain scalar (unquoted, untagged, not produced by ${env.X}
// substitution) that yaml.v3 reads as a number or text is read as
// OpenSearch reads it, and OpenSearch reads YAML two ways (see readings):
// 3.6 and earlier by YAML 1.1's rules, where 010 is 8 and 1_000 is 1000,
// and 3.7 and later by YAML 1.2's JSON schema, where both are text. What
// both read alike is the value, whatever yaml.v3 makes of it: 0o17 and 08
// are text to both, and so to realmd. A number too large for a float
// (7e91356), which both read as Infinity, stays text, with a warning. A
// spelling they read differently is an error that gives both readings,
// and scalar returns nil for it.
func (f *file) scalar(n *yaml.Node, path string) any {
	switch n.ShortTag() {
	case "!!int", "!!float", "!!str":
		if f.plain(n) {
			return f.plainScalar(n, path)
		}
	}
	v := yamlValue(n)
	if x, ok := v.(float64); ok && (math.IsInf(x, 0) || math.IsNaN(x)) { // written !!float .inf
		f.errorf(n.Line, path, "must be a finite number, not %s", n.Value)
		return nil
	}
	return v
}

// plain reports whether n is a plain scalar as OpenSearch sees it:
// unquoted, untagged, and not changed by ${env.X} substitution, which
// OpenSearch applies inside a JSON string, so that its result is text.
func (f *file) plain(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style == 0 && !f.substituted[n]
}

// plainScalar is scalar for a plain scalar.
func (f *file) plainScalar(n *yaml.Node, path string) any {
	os36, os37 := readings(n.Value)
	if !os36.equal(os37) {
		f.errorf(n.Line, path, "%s", differently(n.Value, os36, os37, false))
		return nil
	}
	switch v := os36.v.(type) {
	case string:
		return v
	case *big.Int:
		return sdk.WholeNumber(v.String())
	case float64:
		if math.IsInf(v, 0) {
			// The text may be a secret (a password that looks like 7e91356): not in the message.
			f.warnf(n.Line, path, "written unquoted, this is a number too large for a float to OpenSearch, which reads %s; "+
				"realmd keeps the text as written: put it in quotes so that OpenSearch does too", javaInfinity(v))
			return n.Value
		}
		return v
	}
	f.errorf(n.Line, path, "written unquoted, %q is a number OpenSearch cannot read, so it refuses the file; "+
		"write %q in quotes for the text", n.Value, n.Value)
	return nil
}

// yamlValue is scalar's conversion of n as yaml.v3 reads it, without its
// checks: a float may be infinite or NaN. scalar uses it for scalars that
// are not plain (quoted, tagged or substituted, which yaml.v3 and
// OpenSearch read alike), and for nulls, booleans and timestamps.
func yamlValue(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var i int64
		if n.Decode(&i) == nil {
			return sdk.WholeNumber(strconv.FormatInt(i, 10))
		}
		var u uint64
		if n.Decode(&u) == nil {
			return sdk.WholeNumber(strconv.FormatUint(u, 10))
		}
	case "!!float":
		var x float64
		if n.Decode(&x) == nil {
			return x
		}
	}
	return n.Value
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
		return javaDouble(strings.ReplaceAll(text, "_", ""))
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
		return javaDouble(text)
	}
	return reading{text, true}
}

// javaDouble reads a float's decimal text as Double.parseDouble does: a
// number too large for a float64 is infinite.
func javaDouble(text string) reading {
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
