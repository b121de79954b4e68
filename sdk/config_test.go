package sdk

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// flattenProblems returns the problems of m other than unknown keys, as
// "key: message".
func flattenProblems(m map[string]any) []string {
	var out []string
	for _, p := range NewConfigMap(m, "", nil).Problems() {
		if !strings.HasPrefix(p.Message, "unknown key") {
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

func TestNewConfig_WholeNumbersKeepEveryDigit(t *testing.T) {
	tests := []struct {
		name string
		json string
		str  string // String("n")
		num  int    // Int("n"), or -1 when it is a problem: beyond a Java int, or a float
	}{
		{name: "small", json: `636`, str: "636", num: 636},
		{name: "negative", json: `-42`, str: "-42", num: -42},
		{name: "2^53", json: `9007199254740992`, str: "9007199254740992", num: -1},
		{name: "2^53+1", json: `9007199254740993`, str: "9007199254740993", num: -1},
		{name: "17 digits", json: `12345678901234567`, str: "12345678901234567", num: -1},
		{name: "beyond 64 bits", json: `123456789012345678901234`, str: "123456789012345678901234", num: -1},
		{name: "fraction", json: `0.5`, str: "0.5", num: -1},
		{name: "exponent", json: `1e3`, str: "1000", num: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewConfig([]byte(`{"n": `+tt.json+`, "l": [`+tt.json+`]}`), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.String("n", ""); got != tt.str {
				t.Errorf("String = %q, want %q", got, tt.str)
			}
			if got := c.List("l", nil); !slices.Equal(got, []string{tt.str}) {
				t.Errorf("List = %q, want [%q]", got, tt.str)
			}
			c.problems = nil
			got := c.Int("n", -1)
			if got != tt.num || (tt.num == -1) != (len(c.problems) == 1) {
				t.Errorf("Int = %d with problems %v, want %d", got, c.problems, tt.num)
			}
		})
	}
}

// OpenSearch's Settings.getAsList splits a string with Java's
// String.split, which drops trailing empty parts only (found by review),
// trims each part with Java's String.trim, and gives the default for a
// string with no parts (found by review).
func TestConfig_ListSplitsAsJava(t *testing.T) {
	def := []string{"default"}
	tests := []struct {
		name  string
		value any
		want  []string
		warn  string // the warning, if any
	}{
		{name: "one value", value: "a", want: []string{"a"}},
		{name: "parts are trimmed", value: " a , b ", want: []string{"a", "b"}},
		{name: "a trailing comma is dropped", value: "a,b,", want: []string{"a", "b"}},
		{name: "every trailing comma is dropped", value: "a,,,", want: []string{"a"}},
		{name: "a middle empty part stays", value: "a,,b", want: []string{"a", "", "b"}},
		{name: "a leading empty part stays", value: ",a", want: []string{"", "a"}},
		{name: "a trailing blank part is not empty before trimming", value: "a, ", want: []string{"a", ""}},
		{name: "controls are trimmed", value: "\ta\x01,\nb\r", want: []string{"a", "b"}},
		{name: "a no-break space is not trimmed", value: "admin\u00a0, \u2003ops", want: []string{"admin\u00a0", "\u2003ops"}},
		{name: "empty gives the default", value: "", want: def,
			warn: `l: "" has no entries, so the default ["default"] applies, as in OpenSearch`},
		{name: "commas alone give the default", value: ",,", want: def,
			warn: `l: ",," has no entries, so the default ["default"] applies, as in OpenSearch`},
		{name: "blank is one empty part", value: "  ", want: []string{""}},
		{name: "a number is one part", value: 5.0, want: []string{"5"}},
		{name: "a YAML list keeps its empty entries", value: []any{"a", ""}, want: []string{"a", ""}},
		{name: "a YAML list is not trimmed", value: []any{" a "}, want: []string{" a "}},
		{name: "an empty YAML list is empty", value: []any{}, want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfigMap(map[string]any{"l": tt.value}, "", nil)
			if got := c.List("l", def); !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("List = %q, want %q", got, tt.want)
			}
			if ps := c.Problems(); len(ps) != 0 {
				t.Errorf("problems %v", ps)
			}
			var warns []string
			for _, w := range c.Warnings() {
				warns = append(warns, w.Error())
			}
			if want := []string{tt.warn}; (tt.warn == "" && len(warns) > 0) || (tt.warn != "" && !slices.Equal(warns, want)) {
				t.Errorf("warnings %q, want %q", warns, tt.warn)
			}
		})
	}
}

// Without a default, a string with no parts is no list, and no warning:
// the callers that pass nil read an absent key and "" alike.
func TestConfig_ListWithoutADefault(t *testing.T) {
	for _, value := range []string{"", ",", "absent"} {
		m := map[string]any{"l": value}
		if value == "absent" {
			m = nil
		}
		c := NewConfigMap(m, "", nil)
		if got := c.List("l", nil); got != nil {
			t.Errorf("List(%q) = %q, want nil", value, got)
		}
		if ws, ps := c.Warnings(), c.Problems(); len(ws)+len(ps) > 0 {
			t.Errorf("List(%q): warnings %v, problems %v", value, ws, ps)
		}
	}
}

func TestWholeNumber_FloatWithin2To53TextBeyond(t *testing.T) {
	tests := []struct {
		name    string
		decimal string
		want    any
	}{
		{name: "zero", decimal: "0", want: float64(0)},
		{name: "small", decimal: "636", want: float64(636)},
		{name: "negative", decimal: "-42", want: float64(-42)},
		{name: "2^53 is exact as a float", decimal: "9007199254740992", want: float64(1 << 53)},
		{name: "-2^53 is exact as a float", decimal: "-9007199254740992", want: float64(-1 << 53)},
		{name: "2^53+1 is kept as text", decimal: "9007199254740993", want: "9007199254740993"},
		{name: "below -2^53 is kept as text", decimal: "-9007199254740993", want: "-9007199254740993"},
		{name: "beyond int64 is kept as text", decimal: "18446744073709551615", want: "18446744073709551615"},
		{name: "beyond 64 bits is kept as text", decimal: "123456789012345678901234", want: "123456789012345678901234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := WholeNumber(tt.decimal); got != tt.want {
				t.Errorf("WholeNumber(%q) = %#v, want %#v", tt.decimal, got, tt.want)
			}
		})
	}
	if got, ok := WholeNumber("-0").(float64); !ok || got != 0 || !math.Signbit(got) {
		t.Errorf(`WholeNumber("-0") = %#v, want -0 as NewConfig has always read it`, WholeNumber("-0"))
	}
}

func TestNewConfig_RefusesWhatJSONRefuses(t *testing.T) {
	for _, raw := range []string{`{"n": 1e400}`, `{} {}`, `{}}`, `{"a": 1`, `[1]`} {
		if _, err := NewConfig([]byte(raw), "", nil); err == nil {
			t.Errorf("NewConfig(%s) = nil error", raw)
		}
	}
	for _, raw := range []string{``, `null`, ` {"a": [1, {"b": 2}]} `} {
		if _, err := NewConfig([]byte(raw), "", nil); err != nil {
			t.Errorf("NewConfig(%s) = %v", raw, err)
		}
	}
}

func TestConfig_UnknownKeyNamesTheClosestKnownKey(t *testing.T) {
	// read is a factory: it asks for these keys, set or not.
	read := func(c *Config) {
		c.String("subject_key", "sub")
		c.List("roles_key", nil)
		c.Int("jwks.timeout_ms", 1000)
		c.Has("users")
		c.Ignore("cache_jwks_endpoint")
	}
	tests := []struct {
		name string
		m    map[string]any
		want string // the unknown key's problem
	}{
		{name: "underscore left out", m: map[string]any{"subjectkey": "sub"},
			want: `subjectkey: unknown key "subjectkey"; did you mean "subject_key"?`},
		{name: "a key only asked for with Has", m: map[string]any{"user": []any{}},
			want: `user: unknown key "user"; did you mean "users"?`},
		{name: "a nested key", m: map[string]any{"jwks": map[string]any{"timeout_sm": 5}},
			want: `jwks.timeout_sm: unknown key "jwks.timeout_sm"; did you mean "jwks.timeout_ms"?`},
		{name: "an ignored key counts as known", m: map[string]any{"cache_jwks_endpont": true},
			want: `cache_jwks_endpont: unknown key "cache_jwks_endpont"; did you mean "cache_jwks_endpoint"?`},
		{name: "nothing close lists every key asked for", m: map[string]any{"colour": "blue"},
			want: `colour: unknown key "colour"; the keys allowed here are: cache_jwks_endpoint, jwks.timeout_ms, roles_key, subject_key, users`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfigMap(tt.m, "", nil)
			read(c)
			ps := c.Problems()
			if len(ps) != 1 || ps[0].Error() != tt.want {
				t.Fatalf("problems %q, want [%q]", ps, tt.want)
			}
		})
	}
}

func TestConfig_UnknownKeyOfAFactoryThatReadsNothing(t *testing.T) {
	ps := NewConfigMap(map[string]any{"colour": "blue"}, "", nil).Problems()
	want := `colour: unknown key "colour"; this type reads no config keys`
	if len(ps) != 1 || ps[0].Error() != want {
		t.Fatalf("problems %q, want [%q]", ps, want)
	}
}

// Reading a block with Children asks for it (found by review): a stray key
// beside it lists it, and a misspelt block is told the key it meant.
func TestConfig_ChildrenCountsAsAsking(t *testing.T) {
	// read is the apikey example's factory, plus one more key.
	read := func(c *Config) {
		for _, k := range c.Children("keys") {
			if k != "x" {
				c.String("keys."+k, "")
			}
		}
		c.Int("ttl_minutes", 0)
	}
	tests := []struct {
		name string
		m    map[string]any
		want []string
	}{
		{name: "a stray key lists the block", m: map[string]any{"keys": map[string]any{"ci": "k1"}, "tll": 3.0},
			want: []string{`tll: unknown key "tll"; the keys allowed here are: keys, keys.ci, ttl_minutes`}},
		{name: "a misspelt block is told the key it meant", m: map[string]any{"kyes": map[string]any{"ci": "k1"}},
			want: []string{`kyes.ci: unknown key "kyes.ci"; did you mean "keys.ci"?`}},
		{name: "a misspelt block deeper down", m: map[string]any{"kyes": map[string]any{"ci": map[string]any{"x": "k1"}}},
			want: []string{`kyes.ci.x: unknown key "kyes.ci.x"; did you mean "keys.ci.x"?`}},
		{name: "a key below the block left unread is not told the block", m: map[string]any{"keys": map[string]any{"x": "k1"}},
			want: []string{`keys.x: unknown key "keys.x"; the keys allowed here are: keys, ttl_minutes`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfigMap(tt.m, "", nil)
			read(c)
			var got []string
			for _, p := range c.Problems() {
				got = append(got, p.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("problems %q, want %q", got, tt.want)
			}
		})
	}
}

// Decode records a problem for a missing key, as its doc says (found by
// review): a required structured key never passes silently.
func TestConfig_DecodeOfAMissingKeyIsAProblem(t *testing.T) {
	c := NewConfigMap(map[string]any{"other": 1.0}, "", nil)
	c.Ignore("other")
	servers := []string{"kept"}
	if c.Decode("servers", &servers) {
		t.Error("Decode of a missing key reported true")
	}
	if !slices.Equal(servers, []string{"kept"}) {
		t.Errorf("Decode changed v to %q", servers)
	}
	var got []string
	for _, p := range c.Problems() {
		got = append(got, p.Error())
	}
	if want := []string{"servers: is required"}; !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
}

// A block is set (found by review): Has sees it, Raw returns the nested map
// it flattens from, and Decode reads it whole.
func TestConfig_ABlockIsSetAndReadsWhole(t *testing.T) {
	nested := map[string]any{"opts": map[string]any{"a": 1.0, "b": "x", "c": map[string]any{"d": true}}}
	dotted := map[string]any{"opts.a": 1.0, "opts": map[string]any{"b": "x", "c.d": true}}
	for name, m := range map[string]map[string]any{"nested": nested, "dotted": dotted} {
		t.Run(name, func(t *testing.T) {
			c := NewConfigMap(m, "", nil)
			if !c.Has("opts") || !c.Has("opts.c") || c.Has("opt") || c.Has("opts.a.b") {
				t.Errorf("Has(opts, opts.c, opt, opts.a.b) = %v, %v, %v, %v; want true, true, false, false",
					c.Has("opts"), c.Has("opts.c"), c.Has("opt"), c.Has("opts.a.b"))
			}
			raw, ok := c.Raw("opts")
			if want := nested["opts"]; !ok || !reflect.DeepEqual(raw, want) {
				t.Errorf("Raw = %v, %v; want %v", raw, ok, want)
			}
			var v struct {
				A int
				B string
				C struct{ D bool }
			}
			if !c.Decode("opts", &v) || v.A != 1 || v.B != "x" || !v.C.D {
				t.Errorf("Decode gave %+v", v)
			}
			if ps := c.Problems(); len(ps) != 0 {
				t.Errorf("problems %v", ps)
			}
		})
	}
}

func TestConfig_ABlockWhereAValueIsExpected(t *testing.T) {
	tests := []struct {
		name string
		m    map[string]any
		read func(*Config)
		want []string
	}{
		{name: "String", m: map[string]any{"x": map[string]any{"y": 1.0}},
			read: func(c *Config) { c.String("x", "") },
			want: []string{"x: must be a string, not a map"}},
		{name: "List", m: map[string]any{"x": map[string]any{"y": 1.0}},
			read: func(c *Config) { c.List("x", nil) },
			want: []string{"x: must be a list or a comma-separated string, not a map"}},
		{name: "Decode into a list", m: map[string]any{"x": map[string]any{"y": 1.0}},
			read: func(c *Config) { c.Decode("x", new([]string)) },
			want: []string{"x: json: cannot unmarshal object into Go value of type []string"}},
		{name: "a value beside the block wins", m: map[string]any{"x": "v", "x.y": 1.0},
			read: func(c *Config) { c.String("x", "") },
			want: []string{`x.y: unknown key "x.y"; the keys allowed here are: x`}},
		{name: "a key below a value is a problem when the block is read",
			m:    map[string]any{"x": map[string]any{"a": 1.0, "a.b": 2.0, "c": 3.0}},
			read: func(c *Config) { c.Raw("x"); c.Raw("x") },
			want: []string{"x.a.b: x.a has a value of its own, so x cannot be read as a block; keep one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfigMap(tt.m, "", nil)
			tt.read(c)
			var got []string
			for _, p := range c.Problems() {
				got = append(got, p.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems %q, want %q", got, tt.want)
			}
		})
	}
}

// Ignore covers a key written as a block (found by review): x.y was an
// unknown key, told `did you mean "x"?`.
func TestConfig_IgnoreCoversABlock(t *testing.T) {
	c := NewConfigMap(map[string]any{"x": map[string]any{"y": 1.0, "z": map[string]any{"w": 2.0}}, "xylophone": 3.0}, "", nil)
	c.Ignore("x")
	var got []string
	for _, p := range c.Problems() {
		got = append(got, p.Error())
	}
	if want := []string{`xylophone: unknown key "xylophone"; the keys allowed here are: x`}; !slices.Equal(got, want) {
		t.Errorf("problems %q, want %q", got, want)
	}
}

// OpenSearch reads an int setting with Settings.getAsInt, that is
// Integer.parseInt on the text as written: nothing trims it, so " 7 " is
// refused (SettingsException "Failed to parse int setting"). realmd
// refuses it too, and says that the value has spaces.
func TestConfig_IntRefusesSpacesAsJava(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  int    // Int("n"), or -1 when it is a problem
		msg   string // the problem, if any
	}{
		{name: "digits", value: "7", want: 7},
		{name: "sign", value: "-7", want: -7},
		{name: "plus sign", value: "+7", want: 7},
		{name: "spaces around", value: " 7 ", want: -1,
			msg: `n: must be a whole number, not " 7 ": the value has spaces around it, which OpenSearch refuses; write 7`},
		{name: "trailing tab", value: "7\t", want: -1,
			msg: `n: must be a whole number, not "7\t": the value has spaces around it, which OpenSearch refuses; write 7`},
		{name: "text", value: "seven", want: -1, msg: `n: must be a whole number, not "seven"`},
		{name: "spaces around a number beyond a Java int (no hint to write it)", value: " 99999999999 ", want: -1,
			msg: `n: must be a whole number, not " 99999999999 "`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewConfigMap(map[string]any{"n": tt.value}, "", nil)
			got := c.Int("n", -1)
			var msgs []string
			for _, p := range c.Problems() {
				msgs = append(msgs, p.Error())
			}
			if got != tt.want || (tt.msg == "") != (len(msgs) == 0) || (tt.msg != "" && !slices.Equal(msgs, []string{tt.msg})) {
				t.Errorf("Int(%q) = %d with problems %q, want %d with %q", tt.value, got, msgs, tt.want, tt.msg)
			}
		})
	}
}

// OpenSearch reads an int setting with Settings.getAsInt, Integer.parseInt
// on the setting's text, and a config.yml number reaches Settings as the
// text Jackson writes for it: 7.0 and 1e3 are floats, written "7.0" and
// "1000.0", which parseInt refuses, as it refuses a number beyond a Java
// int. realmd accepted both (found by review).
func TestConfig_IntRefusesWhatParseIntRefuses(t *testing.T) {
	const rangeMsg = "must be a whole number from -2147483648 to 2147483647 (a Java int, as OpenSearch reads it), not %s"
	const floatMsg = "must be a whole number, not %s: written with a decimal point or an exponent, it is a float to OpenSearch, which refuses it here; write %s"
	tests := []struct {
		name string
		json string
		want int    // Int("n"), or -1 when it is a problem
		msg  string // the problem, if any, after "n: "
	}{
		{name: "int", json: `7`, want: 7},
		{name: "largest int", json: `2147483647`, want: math.MaxInt32},
		{name: "smallest int", json: `-2147483648`, want: math.MinInt32},
		{name: "beyond an int", json: `2147483648`, want: -1, msg: fmt.Sprintf(rangeMsg, `"2147483648"`)},
		{name: "below an int", json: `-2147483649`, want: -1, msg: fmt.Sprintf(rangeMsg, `"-2147483649"`)},
		{name: "beyond 2^53", json: `12345678901234567`, want: -1, msg: fmt.Sprintf(rangeMsg, `"12345678901234567"`)},
		{name: "text beyond an int", json: `"3000000000"`, want: -1, msg: fmt.Sprintf(rangeMsg, `"3000000000"`)},
		{name: "text with a sign and zeros", json: `"+007"`, want: 7},
		{name: "whole float", json: `7.0`, want: -1, msg: fmt.Sprintf(floatMsg, `"7.0"`, "7")},
		{name: "exponent", json: `1e3`, want: -1, msg: fmt.Sprintf(floatMsg, `"1e3"`, "1000")},
		{name: "as Jackson writes it", json: `1.0E7`, want: -1, msg: fmt.Sprintf(floatMsg, `"1.0E7"`, "10000000")},
		{name: "whole float beyond an int", json: `1e10`, want: -1, msg: fmt.Sprintf(rangeMsg, `"1e10"`)},
		{name: "fraction", json: `0.5`, want: -1, msg: `must be a whole number, not "0.5"`},
		{name: "text of a float", json: `"7.0"`, want: -1, msg: `must be a whole number, not "7.0"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewConfig([]byte(`{"a": {"n": `+tt.json+`}}`), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Int("a.n", -1)
			var msgs []string
			for _, p := range c.Problems() {
				msgs = append(msgs, p.Error())
			}
			var want []string
			if tt.msg != "" {
				want = []string{"a.n: " + tt.msg}
			}
			if got != tt.want || !slices.Equal(msgs, want) {
				t.Errorf("Int(%s) = %d with problems %q, want %d with %q", tt.json, got, msgs, tt.want, want)
			}
		})
	}
}

// Long is Int for a setting OpenSearch reads with getAsLong (Long.parseLong):
// LDAP's connect_timeout and response_timeout, its pool periods, and
// max_jwks_response_size_bytes accept a number beyond a Java int.
func TestConfig_LongReadsAsParseLong(t *testing.T) {
	const rangeMsg = "must be a whole number from -9223372036854775808 to 9223372036854775807 (a Java long, as OpenSearch reads it), not %s"
	tests := []struct {
		name string
		json string
		want int64  // Long("n"), or -1 when it is a problem
		msg  string // the problem, if any, after "n: "
	}{
		{name: "beyond an int", json: `3000000000`, want: 3000000000},
		{name: "beyond 2^53", json: `12345678901234567`, want: 12345678901234567},
		{name: "largest long", json: `9223372036854775807`, want: math.MaxInt64},
		{name: "smallest long", json: `-9223372036854775808`, want: math.MinInt64},
		{name: "beyond a long", json: `9223372036854775808`, want: -1, msg: fmt.Sprintf(rangeMsg, `"9223372036854775808"`)},
		{name: "text", json: `"+42"`, want: 42},
		{name: "whole float", json: `7.0`, want: -1,
			msg: `must be a whole number, not "7.0": written with a decimal point or an exponent, it is a float to OpenSearch, which refuses it here; write 7`},
		{name: "whole float beyond a long", json: `1e19`, want: -1, msg: fmt.Sprintf(rangeMsg, `"1e19"`)},
		{name: "spaces", json: `" 7"`, want: -1,
			msg: `must be a whole number, not " 7": the value has spaces around it, which OpenSearch refuses; write 7`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewConfig([]byte(`{"n": `+tt.json+`}`), "", nil)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Long("n", -1)
			var msgs []string
			for _, p := range c.Problems() {
				msgs = append(msgs, p.Error())
			}
			var want []string
			if tt.msg != "" {
				want = []string{"n: " + tt.msg}
			}
			if got != tt.want || !slices.Equal(msgs, want) {
				t.Errorf("Long(%s) = %d with problems %q, want %d with %q", tt.json, got, msgs, tt.want, want)
			}
		})
	}
}
