package config

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/realmd/realmd/sdk"
)

// component reads an http_authenticator, authentication_backend or
// authorization_backend mapping: `type`, `config`, and for an
// authenticator `challenge` (whose value it stores in *challenge).
// defType is the type when none is written, or when it is null (as
// OpenSearch's deep clone of the config makes a null String its default).
// It also returns the line of the type, or of k when none is written.
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
		fs["challenge"] = func(_, v *yaml.Node, p string) {
			*challenge = f.javaBool(v, p, true, "this domain never challenges (no 401 with WWW-Authenticate when it finds no credentials)")
		}
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
// (map[string]any, []any, string, bool, float64, json.Number, nil; see
// scalar) and
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

// scalar converts a scalar node to a JSON value. Whole numbers are
// float64, as encoding/json decodes them, except whole numbers beyond
// ±2^53, which a float64 would round (12345678901234567 would reach the
// plugin as 12345678901234568): those are kept as their decimal text, the
// exact value OpenSearch reads (Jackson makes them a long or a BigInteger),
// and reach the plugin as strings. sdk.WholeNumber applies that rule, here
// and in the plugin's sdk.NewConfig. A float (7.0, 1e3, 0.5) is a
// json.Number holding the text Java writes for it ("7.0", "1000.0",
// sdk.JavaDouble): OpenSearch gives a realm the JSON Jackson writes for
// config.yml's map, so the text a realm's Settings holds is that one, and
// its getAsInt refuses "7.0" where a float64 would reach the plugin as 7.
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
	if x, ok := v.(float64); ok {
		if math.IsInf(x, 0) || math.IsNaN(x) { // written !!float .inf
			f.errorf(n.Line, path, "must be a finite number, not %s", n.Value)
			return nil
		}
		return json.Number(sdk.JavaDouble(x))
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
	if b, ok := yaml11Bool(n.Value); ok { // yes, on, ...: text to yaml.v3
		return b
	}
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
		return json.Number(sdk.JavaDouble(v))
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
