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
// yaml.v3 and OpenSearch (Jackson on SnakeYAML, YAML 1.1) read most number
// spellings alike: 010 is 8 and 1_000 is 1000 to both. A plain scalar they
// read differently (0o17 and 08 are numbers to yaml.v3 and text to
// OpenSearch) is a problem that names the spellings both read alike, and
// scalar returns nil for it. Quoted, tagged and substituted scalars are
// left alone.
func (f *file) scalar(n *yaml.Node, path string) any {
	v := yamlValue(n)
	if x, ok := v.(float64); ok && (math.IsInf(x, 0) || math.IsNaN(x)) {
		f.errorf(n.Line, path, "must be a finite number, not %s", n.Value)
		return nil
	}
	if n.Style != 0 || f.substituted[n] { // quoted, tagged or substituted: text to OpenSearch too
		return v
	}
	tag := n.ShortTag()
	if tag != "!!int" && tag != "!!float" && tag != "!!str" {
		return v
	}
	theirValue, readable := openSearchValue(n.Value)
	if x, ok := theirValue.(float64); ok && math.IsInf(x, 0) { // 1e999, too large for a float64
		f.errorf(n.Line, path, "must be a finite number, not %s", n.Value)
		return nil
	}
	if !readable {
		f.errorf(n.Line, path, "written unquoted, %q is a YAML 1.1 number that OpenSearch cannot read, so it refuses the file; "+
			"write %q in quotes for the text", n.Value, n.Value)
		return nil
	}
	want := theirValue
	if i, ok := theirValue.(*big.Int); ok {
		want = sdk.WholeNumber(i.String())
	}
	if want == v {
		return v
	}
	theirs, ours, number := "text", "text", ""
	if _, text := theirValue.(string); !text {
		number = numberText(theirValue)
		theirs = "the number " + number
	}
	if tag != "!!str" {
		ours = "the number " + numberText(v)
		if number == "" {
			number = numberText(v)
		}
	}
	f.errorf(n.Line, path, "written unquoted, %q is %s to OpenSearch (YAML 1.1) but %s to realmd; "+
		"write %s for the number, or %q in quotes for the text", n.Value, theirs, ours, number, n.Value)
	return nil
}

// yamlValue is scalar's conversion of n as yaml.v3 reads it, without its
// checks: a float may be infinite or NaN.
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
		if s, ok := longInteger(n); ok {
			return s
		}
		var x float64
		if n.Decode(&x) == nil {
			return x
		}
	}
	return n.Value
}

// The patterns with which SnakeYAML (org.yaml.snakeyaml.resolver.Resolver,
// 1.31 and later) resolves a plain scalar as an integer or a float for
// OpenSearch's Jackson: YAML 1.1, with its bases 2 (0b), 8 (a leading 0), 16
// (0x) and 60 (1:30), and underscores between digits. Jackson (2.12 and
// later) then decodes an integer in its base, exactly, and keeps a base 60
// one as text.
var (
	yaml11IntRE   = regexp.MustCompile(`^(?:[-+]?0b_*[01][01_]*|[-+]?0_*[0-7][0-7_]*|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x_*[0-9a-fA-F][0-9a-fA-F_]*|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yaml11FloatRE = regexp.MustCompile(`^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
)

// openSearchValue returns what OpenSearch reads for a plain scalar's text:
// a *big.Int for an integer, a float64, or the text itself. readable is
// false when OpenSearch cannot read the number at all (Jackson hands a
// float's text, underscores removed, to Java's Double.parseDouble, which
// reads neither .inf, .nan, base 60 nor "._"), and refuses the file.
func openSearchValue(text string) (v any, readable bool) {
	switch {
	case yaml11IntRE.MatchString(text):
		if strings.Contains(text, ":") {
			return text, true // base 60: Jackson keeps the text
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
		i, ok := new(big.Int).SetString(sign+digits, base)
		return i, ok
	case yaml11FloatRE.MatchString(text):
		if strings.ContainsAny(text, ":iInN") {
			return nil, false
		}
		x, err := strconv.ParseFloat(strings.ReplaceAll(text, "_", ""), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) { // Java reads 1e999 as infinity
			return nil, false
		}
		return x, true
	}
	return text, true
}

// numberText writes a number for a message, in a form both YAML readers
// read alike: a *big.Int or float64 of openSearchValue's, or a float64 or
// decimal text (a whole number beyond ±2^53) of yamlValue's.
func numberText(v any) string {
	switch v := v.(type) {
	case *big.Int:
		return v.String()
	case float64:
		if math.Abs(v) < 1e21 {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return v // a whole number's decimal text
	}
	return ""
}

// decimalDigitsRE is a whole number in decimal, as yaml.v3 reads it once
// underscores are removed.
var decimalDigitsRE = regexp.MustCompile(`^[-+]?[0-9]+$`)

// longInteger returns the decimal text of a plain scalar that is a whole
// number too long for 64 bits: yaml.v3 resolves it as a float, where
// Jackson reads a BigInteger.
func longInteger(n *yaml.Node) (string, bool) {
	if n.Style&yaml.TaggedStyle != 0 { // written !!float
		return "", false
	}
	digits := strings.ReplaceAll(n.Value, "_", "")
	if !decimalDigitsRE.MatchString(digits) {
		return "", false
	}
	i, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return "", false
	}
	return i.String(), true
}
