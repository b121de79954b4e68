package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/realmd/realmd/sdk"
)

// nodeSlack is added to a file's size to bound how many YAML nodes it may
// expand to through aliases: a file without aliases has fewer nodes than
// bytes, so an alias bomb is stopped early and a real file never is.
const nodeSlack = 10000

// file is one YAML file being read: its base name and the problems found in
// it so far.
type file struct {
	name     string
	problems *Problems
	nodes    int  // nodes visited, aliases counted each time
	budget   int  // nodes allowed
	overflow bool // budget was exceeded and reported
	// keyText holds, for each key that ${env.X} substitution changed, the
	// key as written.
	keyText map[*yaml.Node]string
	// substituted holds the scalars that ${env.X} substitution changed:
	// OpenSearch substitutes inside a JSON string, so their new text is
	// text, whatever number it spells.
	substituted map[*yaml.Node]bool
	// unresolved holds the scalars whose ${env.X} substitution failed,
	// which is reported: reading their unsubstituted text as a number or a
	// boolean would report the one mistake twice.
	unresolved map[*yaml.Node]bool
}

func (f *file) errorf(line int, key, format string, args ...any) {
	*f.problems = append(*f.problems, Problem{File: f.name, Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

func (f *file) warnf(line int, key, format string, args ...any) {
	*f.problems = append(*f.problems, Problem{File: f.name, Line: line, Key: key, Message: fmt.Sprintf(format, args...), Warning: true})
}

// tick counts one visited node and reports false, once with a problem,
// when the file has expanded past its budget.
func (f *file) tick(n *yaml.Node, path string) bool {
	if f.nodes++; f.nodes <= f.budget {
		return true
	}
	if !f.overflow {
		f.overflow = true
		f.errorf(n.Line, path, "the file expands to more values than it has bytes (YAML aliases used over and over?); simplify it")
	}
	return false
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse decodes data into its root node. It returns nil for an empty file
// and false after a syntax error, which it reports.
func (f *file) parse(data []byte) (*yaml.Node, bool) {
	f.budget = len(data) + nodeSlack
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true
		}
		f.syntaxError(data, err)
		return nil, false
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		f.syntaxError(data, err)
		return nil, false
	case root(&extra) != nil:
		f.errorf(extra.Line, "", "a second YAML document (---) is not allowed: OpenSearch reads one document per file; merge them into one")
		return nil, false
	}
	return root(&doc), true
}

func (f *file) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if tab := tabLine(data, line, msg); tab > 0 {
		f.errorf(tab, "", "YAML syntax error: this line is indented with a tab; YAML indents with spaces only: replace the tab with spaces")
		return
	}
	if line == 0 {
		f.errorf(0, "", "YAML syntax error: %s", msg)
		return
	}
	if strings.HasPrefix(msg, "did not find expected") {
		// yaml.v3 reports the line where the enclosing block starts.
		msg += " in the block that starts here; check the indentation of the lines below it"
	}
	f.errorf(line, "", "YAML syntax error: %s", msg)
}

// tabLine finds the line that holds the tab a yaml.v3 error msg, reported
// at line (0: none given, which is line 1), is about, or returns 0 when msg
// is not about a tab. yaml.v3 reports "violates indentation" at the line
// where the value before the tab starts, so the first line from there that
// is indented with a tab is the one; "cannot start any token" is about a
// tab only when its own line is indented with one.
func tabLine(data []byte, line int, msg string) int {
	line = max(line, 1)
	lines := strings.Split(string(data), "\n")
	// tabbed reports whether line n is indented with a tab: it starts with
	// one or, unless first, has one among its leading spaces. A tab after
	// spaces may be a block scalar's content; one at the start never is.
	tabbed := func(n int, first bool) bool {
		if n > len(lines) {
			return false
		}
		l := lines[n-1]
		if first {
			return strings.HasPrefix(l, "\t")
		}
		return strings.ContainsRune(l[:len(l)-len(strings.TrimLeft(l, " \t"))], '\t')
	}
	switch {
	case strings.Contains(msg, "found a tab character"):
		for _, first := range []bool{true, false} {
			for n := line; n <= len(lines); n++ {
				if tabbed(n, first) {
					return n
				}
			}
		}
	case strings.Contains(msg, "found character that cannot start any token"):
		if tabbed(line, false) {
			return line
		}
	}
	return 0
}

// root returns the content of a document node, or nil when it is empty or null.
func root(doc *yaml.Node) *yaml.Node {
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	n = deref(n)
	if isNull(n) {
		return nil
	}
	return n
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names a node's value for a message: `a mapping`, `a list`,
// `"abc"`, `12`.
func describe(n *yaml.Node) string {
	switch {
	case isNull(n):
		return "null"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// str returns a scalar as a string (numbers and booleans as written, as
// Jackson coerces them). It reports false for null and for a mapping or a
// list, which it reports.
func (f *file) str(n *yaml.Node, path string) (string, bool) {
	if isNull(n) || f.unresolved[n] {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		f.errorf(n.Line, path, "must be a string, not %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// boolean returns n as true or false; null is def. A string (quoted, or
// from ${env.X} substitution) is read as Jackson's _parseBooleanPrimitive
// reads one: trimmed as Java trims, then true, True, TRUE, false, False or
// FALSE. YAML 1.1's plain yes, no, on and off are accepted too, which
// OpenSearch reads as booleans (yaml11Bool).
func (f *file) boolean(n *yaml.Node, path string, def bool) bool {
	if isNull(n) || f.unresolved[n] {
		return def
	}
	if n.Kind == yaml.ScalarNode {
		switch sdk.JavaTrim(n.Value) {
		case "true", "True", "TRUE":
			return true
		case "false", "False", "FALSE":
			return false
		}
		if b, ok := yaml11Bool(n.Value); ok && f.plain(n) { // challenge: yes, as OpenSearch reads it
			return b
		}
	}
	f.errorf(n.Line, path, "must be true or false, not %s", describe(n))
	return def
}

// javaBool reads a config.yml field that OpenSearch declares as a Java
// boolean whose written default is def. Jackson, with OpenSearch's
// FAIL_ON_NULL_FOR_PRIMITIVES off, gives a null (`key: ~`, or `key:` with
// nothing after it, as a template with an unset value renders it) the
// Java zero value false, not the default; so does realmd, with a warning
// where def is true, effect saying what false does there.
func (f *file) javaBool(n *yaml.Node, path string, def bool, effect string) bool {
	if !isNull(n) {
		return f.boolean(n, path, def)
	}
	if def {
		f.warnf(n.Line, path, "null is false to OpenSearch, not the default true: %s, in realmd too; "+
			"write true, or remove the key, for the default", effect)
	}
	return false
}

// integer returns n as a whole number within [lo, hi]; null is def. A
// decimal string is accepted, as Jackson converts it. A plain scalar in a
// file OpenSearch reads is read as OpenSearch reads it (see readings):
// order: 08 is the text "08" to every version, and so 8; order: 010 is 8
// to OpenSearch 3.6 and earlier but the text "010", and so 10, to 3.7 and
// later, which is an error. realmd.yml is realmd's alone and is read as
// YAML reads it (max_header_bytes: 65_536).
func (f *file) integer(n *yaml.Node, path string, def, lo, hi int64) int64 {
	if isNull(n) || f.unresolved[n] {
		return def
	}
	v, ok := int64(0), false
	if n.Kind == yaml.ScalarNode {
		switch {
		case f.plain(n) && f.name == RealmdFile && n.ShortTag() == "!!int":
			ok = n.Decode(&v) == nil
		case f.plain(n):
			os36, os37 := readings(n.Value)
			i, ok36 := os36.whole()
			j, ok37 := os37.whole()
			if ok36 != ok37 || (ok36 && i.Cmp(j) != 0) {
				f.errorf(n.Line, path, "%s", differently(n.Value, os36, os37, true))
				return def
			}
			if ok36 && i.IsInt64() {
				v, ok = i.Int64(), true
			}
		case n.ShortTag() == "!!int": // written !!int
			ok = n.Decode(&v) == nil
		case n.ShortTag() == "!!str": // quoted, or from ${env.X}
			// Jackson trims with Java's String.trim: " 5" is 5, "\u00a05" is no number.
			trimmed := sdk.JavaTrim(n.Value)
			var err error
			v, err = strconv.ParseInt(trimmed, 10, 64)
			ok = err == nil
			if t := strings.TrimSpace(n.Value); !ok && t != trimmed {
				if _, err := strconv.ParseInt(t, 10, 64); err == nil {
					f.errorf(n.Line, path, "must be a whole number, not %s: it has a Unicode space around it, which OpenSearch does not trim; write %s", describe(n), t)
					return def
				}
			}
		}
	}
	if !ok {
		f.errorf(n.Line, path, "must be a whole number, not %s", describe(n))
		return def
	}
	if v < lo || v > hi {
		switch {
		case hi == math.MaxInt32 || hi == math.MaxInt64:
			f.errorf(n.Line, path, "must be at least %d, not %d", lo, v)
		default:
			f.errorf(n.Line, path, "must be between %d and %d, not %d", lo, hi, v)
		}
		return def
	}
	return v
}

// item is one element of a list of strings, with its place.
type item struct {
	value string
	line  int
	path  string
	null  bool // the element is null (value is "")
}

// list returns n as a list of strings (scalars converted); null is an
// empty list. A scalar where a list is expected is an error, as in
// OpenSearch's parser, and so is a null element.
func (f *file) list(n *yaml.Node, path string) []item {
	items := f.nullableList(n, path)
	out := items[:0]
	for _, it := range items {
		if it.null {
			f.errorf(it.line, it.path, "empty list element; remove it or give it a value")
			continue
		}
		out = append(out, it)
	}
	return out
}

// nullableList is list, but returns a null element as an item with null
// set, unreported, for the caller to judge: Jackson keeps a null in a
// List<String>.
func (f *file) nullableList(n *yaml.Node, path string) []item {
	if isNull(n) {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		f.errorf(n.Line, path, "must be a list, not %s; write [%s]", describe(n), describe(n))
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		f.errorf(n.Line, path, "must be a list, not %s", describe(n))
		return nil
	}
	out := make([]item, 0, len(n.Content))
	for i, e := range n.Content {
		e = deref(e)
		p := fmt.Sprintf("%s[%d]", path, i)
		if !f.tick(e, p) {
			break
		}
		switch {
		case isNull(e):
			out = append(out, item{line: e.Line, path: p, null: true})
		case e.Kind != yaml.ScalarNode:
			f.errorf(e.Line, p, "must be a string, not %s", describe(e))
		default:
			out = append(out, item{value: e.Value, line: e.Line, path: p})
		}
	}
	return out
}

func values(items []item) []string {
	if len(items) == 0 {
		return nil
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.value
	}
	return out
}
