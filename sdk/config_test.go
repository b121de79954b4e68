package sdk

import (
	"slices"
	"testing"
)

// flattenProblems returns the problems of m other than unknown keys, as
// "key: message".
func flattenProblems(m map[string]any) []string {
	var out []string
	for _, p := range NewConfigMap(m, "", nil).Problems() {
		if p.Message != "unknown key" {
			out = append(out, p.Error())
		}
	}
	return out
}

func TestNewConfigMap_SettingWrittenTwice(t *testing.T) {
	tests := []struct {
		name string
		m    map[string]any
		want []string
	}{
		{
			name: "dotted and nested is a problem",
			m:    map[string]any{"validation.strategy": "search", "validation": map[string]any{"strategy": "bogus"}},
			want: []string{"validation.strategy: set both nested under `validation` and as `validation.strategy`; keep one"},
		},
		{
			name: "two partly dotted spellings are a problem",
			m:    map[string]any{"a.b": map[string]any{"c": 1.0}, "a": map[string]any{"b.c": 2.0}},
			want: []string{"a.b.c: set both nested under `a` and nested under `a.b`; keep one"},
		},
		{
			name: "null counts as written",
			m:    map[string]any{"a.b": nil, "a": map[string]any{"b": "x"}},
			want: []string{"a.b: set both nested under `a` and as `a.b`; keep one"},
		},
		{
			name: "lists clash like scalars",
			m:    map[string]any{"x.hosts": []any{"b"}, "x": map[string]any{"hosts": "c"}},
			want: []string{"x.hosts: set both nested under `x` and as `x.hosts`; keep one"},
		},
		{
			name: "siblings under a shared dotted prefix are fine",
			m:    map[string]any{"a.b": map[string]any{"c": 1.0}, "a": map[string]any{"b": map[string]any{"d": 2.0}}},
		},
		{
			name: "maps inside lists are not flattened",
			m:    map[string]any{"l": []any{map[string]any{"a.b": 1.0, "a": map[string]any{"b": 2.0}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Go randomises map order: the answer must be the same every time.
			for range 50 {
				if got := flattenProblems(tt.m); !slices.Equal(got, tt.want) {
					t.Fatalf("problems %q, want %q", got, tt.want)
				}
			}
		})
	}
}

func TestNewConfigMap_FlattensNestedMaps(t *testing.T) {
	c := NewConfigMap(map[string]any{
		"a.b": map[string]any{"c": 1.0},
		"a":   map[string]any{"b": map[string]any{"d": "x"}, "e": nil},
	}, "", nil)
	if c.Int("a.b.c", 0) != 1 || c.String("a.b.d", "") != "x" || c.Has("a.e") {
		t.Fatalf("values %v", c.values)
	}
	if ps := c.Problems(); len(ps) != 0 {
		t.Fatalf("problems %v", ps)
	}
}
