package config

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// flatKey is where a setting of a `config:` map was written: the YAML keys
// that spell its dotted name, and the line of the last one.
type flatKey struct {
	keys []string
	line int
}

// spelling says how a setting was written, for a problem: "as `a.b`" for
// one key, "nested under `a`" for `a: {b: ...}`.
func (k flatKey) spelling() string {
	if len(k.keys) == 1 {
		return "as `" + k.keys[0] + "`"
	}
	return "nested under `" + strings.Join(k.keys[:len(k.keys)-1], ": ") + "`"
}

// flatDuplicates reports every setting of the `config:` mapping n written
// twice, once dotted and once nested (`a.b: 1` beside `a: {b: 2}`). A
// plugin's sdk.Config flattens the map to dotted keys, so such a map holds
// two values for one setting; OpenSearch's Settings refuses it. The plugin
// reports it as well, but only here are both lines known, and the config
// fails to load before any plugin starts.
//
// Lists are not flattened by the SDK, so maps inside them cannot clash.
// Call it only after the map was decoded without exhausting the file's node
// budget: the decoder has then visited every node this walk visits.
func (f *file) flatDuplicates(n *yaml.Node, path string) {
	f.walkFlatKeys(n, path, nil, map[string]flatKey{}, 1)
}

func (f *file) walkFlatKeys(n *yaml.Node, path string, parents []string, seen map[string]flatKey, depth int) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > maxConfigDepth {
		return
	}
	here := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" || here[k.Value] {
			continue // pairs reports these
		}
		here[k.Value] = true
		keys := append(parents[:len(parents):len(parents)], k.Value)
		if v != nil && v.Kind == yaml.MappingNode {
			f.walkFlatKeys(v, path, keys, seen, depth+1)
			continue
		}
		f.addFlatKey(path, flatKey{keys: keys, line: k.Line}, seen)
	}
}

// addFlatKey records one setting, or reports it when its dotted name was
// already written another way.
func (f *file) addFlatKey(path string, k flatKey, seen map[string]flatKey) {
	name := strings.Join(k.keys, ".")
	first, dup := seen[name]
	if !dup {
		seen[name] = k
		return
	}
	f.errorf(k.line, join(path, name), "set both %s (line %d) and %s; OpenSearch refuses a setting written twice; keep one",
		first.spelling(), first.line, k.spelling())
}
