package config

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/realmd/realmd/sdk"
)

// fields maps the keys a mapping accepts to the function that reads the
// value of each. The function gets the key node, the value node (aliases
// resolved, never nil) and the value's full key path.
type fields map[string]func(k, v *yaml.Node, path string)

// hints replaces the unknown-key message for keys that are known mistakes,
// such as a legacy v1 key in a v2 file.
type hints map[string]string

// pairs walks mapping n and calls fn for each key, in file order. It
// reports duplicate keys (OpenSearch rejects them) and keys that are not
// plain scalars. A null n is an empty mapping; anything else that is not a
// mapping is reported and pairs returns false.
func (f *file) pairs(n *yaml.Node, path string, fn func(k, v *yaml.Node, path string)) bool {
	n = deref(n)
	if isNull(n) {
		return true
	}
	if n.Kind != yaml.MappingNode {
		f.errorf(n.Line, path, "must be a mapping of keys to values, not %s", describe(n))
		return false
	}
	seen := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if !f.tick(k, path) {
			return false
		}
		if k.Kind != yaml.ScalarNode {
			f.errorf(k.Line, path, "a key must be a plain name, not %s", describe(k))
			continue
		}
		kp := join(path, k.Value)
		if k.ShortTag() == "!!merge" {
			f.errorf(k.Line, kp, "YAML merge keys (<<) are not supported; write the keys out")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			f.errorf(k.Line, kp, "duplicate key %s; OpenSearch rejects a file with duplicate keys; keep one", f.duplicateKey(k, first))
			continue
		}
		seen[k.Value] = k
		if v == nil {
			v = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: k.Line}
		}
		fn(k, v, kp)
	}
	return true
}

// object walks mapping n, calling the field of each key. Unknown keys are
// reported with a suggestion; h gives custom messages for some of them.
func (f *file) object(n *yaml.Node, path string, fs fields, h hints) {
	f.pairs(n, path, func(k, v *yaml.Node, kp string) {
		if fn, ok := fs[k.Value]; ok {
			fn(k, v, kp)
			return
		}
		f.unknownKey(k, kp, keys(fs), h)
	})
}

// unknownKey reports key k, which is not one of known.
func (f *file) unknownKey(k *yaml.Node, path string, known []string, h hints) {
	if msg, ok := h[k.Value]; ok {
		f.errorf(k.Line, path, "unknown key %q: %s", k.Value, msg)
		return
	}
	if s := sdk.Suggest(k.Value, known); s != "" {
		f.errorf(k.Line, path, "unknown key %q; did you mean %q?", k.Value, s)
		return
	}
	f.errorf(k.Line, path, "unknown key %q; the keys allowed here are: %s", k.Value, strings.Join(known, ", "))
}

func keys(fs fields) []string {
	out := make([]string, 0, len(fs))
	for k := range fs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Field readers for keys that OpenSearch accepts and realmd ignores: the
// value's type is still checked, as OpenSearch's parser checks it.

func (f *file) ignoreBool(_, v *yaml.Node, path string)   { f.boolean(v, path, false) }
func (f *file) ignoreString(_, v *yaml.Node, path string) { f.str(v, path) }
func (f *file) ignoreList(_, v *yaml.Node, path string)   { f.list(v, path) }
func (f *file) ignoreInt(_, v *yaml.Node, path string)    { f.integer(v, path, 0, minInt32, maxInt32) }
func (f *file) ignoreLong(_, v *yaml.Node, path string) {
	f.integer(v, path, 0, math.MinInt64, math.MaxInt64)
}

// Bounds of a Java int, the type of most numeric OpenSearch fields.
const (
	minInt32 = math.MinInt32
	maxInt32 = math.MaxInt32
)

// meta checks a `_meta` mapping: type must be want, config_version 2.
func (f *file) meta(v *yaml.Node, path, want string) {
	if isNull(v) || v.Kind != yaml.MappingNode {
		f.errorf(v.Line, path, "must be a mapping: _meta: {type: %s, config_version: 2}", want)
		return
	}
	var typ, version *yaml.Node
	f.object(v, path, fields{
		"type":           func(_, v *yaml.Node, _ string) { typ = v },
		"config_version": func(_, v *yaml.Node, _ string) { version = v },
	}, nil)
	switch t, ok := f.str(typ, join(path, "type")); {
	case typ == nil || (!ok && isNull(typ)):
		f.errorf(v.Line, join(path, "type"), "missing; add type: %s", want)
	case ok && t != want:
		f.errorf(typ.Line, join(path, "type"), "must be %q in %s, not %q", want, f.name, t)
	}
	if version == nil || isNull(version) {
		f.errorf(v.Line, join(path, "config_version"), "missing; add config_version: 2")
		return
	}
	n := f.integer(version, join(path, "config_version"), 2, minInt32, maxInt32)
	if n != 2 {
		f.errorf(version.Line, join(path, "config_version"),
			"config_version %d is not supported: a file with _meta must have config_version: 2 (the legacy v1 format has no _meta at all)", n)
	}
}

// hasKey reports whether mapping n has key k.
func hasKey(n *yaml.Node, k string) bool {
	return keyNode(n, k) != nil
}

// keyNode returns the key node k of mapping n, or nil.
func keyNode(n *yaml.Node, k string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if kn := deref(n.Content[i]); kn.Kind == yaml.ScalarNode && kn.Value == k {
			return kn
		}
	}
	return nil
}

// quoteList formats names for a message: "a", "b" or "c".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	switch len(q) {
	case 0:
		return ""
	case 1:
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
