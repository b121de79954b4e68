package config

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/realmd/realmd/sdk"
)

const componentConfig = `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      ldap:
        order: 1
        http_authenticator:
          type: basic
        authentication_backend:
          type: ldap
          config:
            hosts:
              - "ldap1:636"
              - ldap2:636
            enable_ssl: true
            port: 636
            ratio: 0.5
            bind_dn: null
            users:
              a:
                base: ou=a
                search: (uid={0})
            dotted.key: x
            list_of_maps:
              - name: one
                value: 1
`

func TestComponent_ConfigDecodesToJSONValues(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: componentConfig}), nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	b := s.Security.Authc[0].Backend
	want := map[string]any{
		"hosts":      []any{"ldap1:636", "ldap2:636"},
		"enable_ssl": true,
		"port":       float64(636),
		"ratio":      json.Number("0.5"),
		"bind_dn":    nil,
		"users":      map[string]any{"a": map[string]any{"base": "ou=a", "search": "(uid={0})"}},
		"dotted.key": "x",
		"list_of_maps": []any{
			map[string]any{"name": "one", "value": float64(1)},
		},
	}
	if !reflect.DeepEqual(b.Config, want) {
		t.Errorf("config = %#v\nwant %#v", b.Config, want)
	}
	// The map must survive a JSON round trip unchanged, as it crosses the
	// wire to the plugin as JSON; a float then decodes as a float64.
	raw, err := json.Marshal(b.Config)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	want["ratio"] = 0.5
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("JSON round trip = %v, %v", back, err)
	}
	if b.Path != "config.dynamic.authc.ldap.authentication_backend" || b.Pos.Line != 9 {
		t.Errorf("path %q line %d", b.Path, b.Pos.Line)
	}
}

func TestComponent_LineMapsSDKProblemKeysToLines(t *testing.T) {
	s, _ := loadDir(writeDir(t, map[string]string{ConfigFile: componentConfig}), nil)
	if s == nil {
		t.Fatal("config did not load")
	}
	b := s.Security.Authc[0].Backend
	tests := []struct {
		key  string
		want int
	}{
		{"hosts", 12},
		{"hosts[0]", 13},
		{"hosts[1]", 14},
		{"enable_ssl", 15},
		{"users", 19},
		{"users.a", 20},
		{"users.a.base", 21},
		{"users.a.search", 22},
		{"dotted.key", 23},
		{"list_of_maps[0].value", 26},
		{"users.a.unknown", 20}, // falls back to the nearest parent
		{"nothere", 9},          // falls back to the component
		{"hosts[7]", 12},
	}
	for _, tt := range tests {
		if got := b.Line(tt.key); got != tt.want {
			t.Errorf("Line(%q) = %d, want %d", tt.key, got, tt.want)
		}
	}
	// Every key sdk.Config reports a problem for must have a line: the
	// flattening is the same.
	cfg := sdk.NewConfigMap(b.Config, "", nil)
	for _, p := range cfg.Problems() { // every key is unread, so each is reported
		if _, ok := b.KeyLines[p.Key]; !ok {
			t.Errorf("sdk problem key %q has no line", p.Key)
		}
	}
	if len(cfg.Problems()) == 0 {
		t.Error("expected unknown-key problems from sdk.Config")
	}
}

func TestComponent_DefaultsWhenNotWritten(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      basic:
        http_authenticator: {type: basic}
    authz:
      roles: {}
`}), nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	d := s.Security.Authc[0]
	if d.Order != 0 || !d.Challenge || d.Backend.Type != TypeInternal || d.Backend.RawType != "" || d.Backend.Config == nil {
		t.Errorf("authc defaults = %+v", d)
	}
	z := s.Security.Authz[0]
	if z.Backend.Type != TypeNoop || z.Backend.Path != "config.dynamic.authz.roles.authorization_backend" {
		t.Errorf("authz defaults = %+v", z)
	}
}

func TestComponent_AnchorsAndAliasesAreFollowed(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      ldap:
        order: 1
        http_authenticator: {type: basic}
        authentication_backend:
          type: ldap
          config: &ldap
            hosts: [ldap:636]
    authz:
      ldap_roles:
        authorization_backend:
          type: ldap
          config: *ldap
`}), nil)
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	if got := s.Security.Authz[0].Backend.Config; !reflect.DeepEqual(got, map[string]any{"hosts": []any{"ldap:636"}}) {
		t.Errorf("aliased config = %v", got)
	}
}

func TestComponent_MergeKeysAreReported(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: `_meta: {type: config, config_version: 2}
base: &base {http_authenticator: {type: basic}}
config:
  dynamic:
    authc:
      basic:
        <<: *base
`}), nil)
	assertProblems(t, s, ps,
		"config.yml: warning: no enabled authc domain and anonymous auth is off: every request will be refused (OpenSearch answers 503 Security not initialized); enable a domain in config.dynamic.authc",
		`config.yml:2: base: unknown key "base"; the keys allowed here are: _meta, config`,
		"config.yml:6: warning: config.dynamic.authc.basic.http_authenticator.type: missing, so OpenSearch drops this domain without a word; realmd drops it too (set a type such as basic to use it)",
		"config.yml:7: config.dynamic.authc.basic.<<: YAML merge keys (<<) are not supported; write the keys out",
	)
}

func TestComponent_NonFiniteNumbersAreRefused(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      jwt:
        http_authenticator:
          type: jwt
          config: {jwt_clock_skew_tolerance_seconds: .inf}
`}), nil)
	assertProblems(t, s, ps, "config.yml:8: config.dynamic.authc.jwt.http_authenticator.config.jwt_clock_skew_tolerance_seconds: written unquoted, \".inf\" is a number OpenSearch cannot read, so it refuses the file; write \".inf\" in quotes for the text")
}

func TestLoad_AliasBombIsStopped(t *testing.T) {
	bomb := "_meta: {type: config, config_version: 2}\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g"} {
		bomb += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	bomb += "config:\n  dynamic:\n    authc:\n      b:\n        http_authenticator: {type: basic, config: {k: *g}}\n"
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: bomb}), nil)
	if s != nil || len(ps) == 0 || !strings.Contains(ps.Error(), "the file expands to more values than it has bytes") {
		t.Errorf("problems = %v", ps)
	}
}

// A small file nested thousands deep once cost memory quadratic in its
// depth (a 540 KB config.yml took realmd down on reload); the loader now
// stops at maxConfigDepth.
func TestComponent_DeepNestingIsRefusedCheaply(t *testing.T) {
	var b strings.Builder
	b.WriteString("_meta: {type: config, config_version: 2}\nconfig:\n  dynamic:\n    authc:\n      basic:\n" +
		"        http_authenticator: {type: basic}\n        authentication_backend:\n          type: internal\n          config:\n")
	for i := range 30 {
		fmt.Fprintf(&b, "            x%d: %s%s\n", i, strings.Repeat("[", 9000), strings.Repeat("]", 9000))
	}
	dir := writeDir(t, map[string]string{ConfigFile: b.String()})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, ps := loadDir(dir, nil)
	runtime.ReadMemStats(&after)
	if !strings.Contains(ps.Error(), "nested more than 32 levels deep") {
		t.Fatalf("problems: %v", ps)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 256<<20 {
		t.Errorf("loading a %d KB file allocated %d MB", b.Len()>>10, used>>20)
	}
}

func TestComponent_WholeNumbersKeepEveryDigit(t *testing.T) {
	tests := []struct {
		name   string
		yaml   string
		want   any    // in Component.Config
		plugin string // what the plugin's sdk.Config.String reads
	}{
		{name: "small number", yaml: "636", want: float64(636), plugin: "636"},
		{name: "negative number", yaml: "-42", want: float64(-42), plugin: "-42"},
		{name: "2^53 is exact as a float", yaml: "9007199254740992", want: float64(1 << 53), plugin: "9007199254740992"},
		{name: "2^53+1 is kept as text", yaml: "9007199254740993", want: "9007199254740993", plugin: "9007199254740993"},
		{name: "below -2^53 is kept as text", yaml: "-9007199254740993", want: "-9007199254740993", plugin: "-9007199254740993"},
		{name: "17 digits", yaml: "12345678901234567", want: "12345678901234567", plugin: "12345678901234567"},
		{name: "beyond int64", yaml: "18446744073709551615", want: "18446744073709551615", plugin: "18446744073709551615"},
		{name: "beyond 64 bits", yaml: "123456789012345678901234", want: "123456789012345678901234", plugin: "123456789012345678901234"},
		{name: "negative beyond 64 bits", yaml: "-123456789012345678901234", want: "-123456789012345678901234", plugin: "-123456789012345678901234"},
		{name: "a fraction stays a float", yaml: "0.5", want: json.Number("0.5"), plugin: "0.5"},
		{name: "written !!float stays a float", yaml: "!!float 12345678901234567", want: json.Number("1.2345678901234568E16"), plugin: "12345678901234568"},
		{name: "quoted digits are a string", yaml: `"12345678901234567"`, want: "12345678901234567", plugin: "12345678901234567"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      ldap:
        http_authenticator: {type: basic}
        authentication_backend:
          type: ldap
          config:
            password: ` + tt.yaml + "\n"}), nil)
			assertProblems(t, s, ps)
			if s == nil {
				t.FailNow()
			}
			c := s.Security.Authc[0].Backend.Config
			if !reflect.DeepEqual(c["password"], tt.want) {
				t.Errorf("config password = %#v, want %#v", c["password"], tt.want)
			}
			// What the plugin reads, after the config crossed the wire as JSON.
			raw, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := sdk.NewConfig(raw, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.String("password", ""); got != tt.plugin {
				t.Errorf("plugin reads %q, want %q", got, tt.plugin)
			}
		})
	}
}

// loadPort loads numberConfig(text), expecting exactly the problems want
// (warnings only), and returns the port the LDAP backend's config holds.
func loadPort(t *testing.T, text string, want ...string) any {
	t.Helper()
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: numberConfig(text)}), nil)
	assertProblems(t, s, ps, want...)
	if s == nil {
		t.FailNow()
	}
	return s.Security.Authc[0].Backend.Config["port"]
}

// numberConfig is a config.yml whose LDAP backend has `port: <text>` at
// line 10.
func numberConfig(text string) string {
	return `_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      ldap:
        http_authenticator: {type: basic}
        authentication_backend:
          type: ldap
          config:
            port: ` + text + "\n"
}

// A plain scalar is what OpenSearch 3.6 and earlier (YAML 1.1) and 3.7 and
// later (YAML 1.2's JSON schema) both read, whatever yaml.v3 makes of it.
func TestComponent_NumberSpellingsEveryOpenSearchReadsAlike(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want any // in Component.Config
	}{
		{name: "decimal", yaml: "636", want: float64(636)},
		{name: "minus zero", yaml: "-0", want: float64(0)},
		{name: "fraction", yaml: "-0.5", want: json.Number("-0.5")},
		{name: "exponent without a dot", yaml: "1e3", want: json.Number("1000.0")},
		{name: "upper-case exponent with a sign", yaml: "1E+3", want: json.Number("1000.0")},
		{name: "trailing dot", yaml: "5.", want: json.Number("5.0")},
		{name: "dot then exponent", yaml: "1.e3", want: json.Number("1000.0")},
		{name: "a tiny number is 0", yaml: "1e-999", want: json.Number("0.0")},
		{name: "beyond 2^53 is kept as text", yaml: "9007199254740993", want: "9007199254740993"},
		// Text to both, though yaml.v3 reads a number: found as secrets.
		{name: "leading 0 then a digit beyond 7 is text", yaml: "0123456789", want: "0123456789"},
		{name: "08 is text", yaml: "08", want: "08"},
		{name: "09 is text", yaml: "09", want: "09"},
		{name: "digits with a leading 0 are text", yaml: "08154711", want: "08154711"},
		{name: "0o octal is text", yaml: "0o17", want: "0o17"},
		{name: "negative 0o octal is text", yaml: "-0o17", want: "-0o17"},
		{name: "upper-case 0X is text", yaml: "0X1F", want: "0X1F"},
		{name: "upper-case 0B is text", yaml: "0B101", want: "0B101"},
		{name: "underscore before 0x is text", yaml: "0_x1F", want: "0_x1F"},
		{name: "leading 0 then 9 with an underscore is text", yaml: "0_9", want: "0_9"},
		{name: "underscore in the exponent is text", yaml: "1e1_0", want: "1e1_0"},
		{name: "base 60 integer is text", yaml: "1:30", want: "1:30"},
		{name: "quoted is text", yaml: `"0o17"`, want: "0o17"},
		{name: "quoted 010 is text", yaml: `'010'`, want: "010"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadPort(t, tt.yaml); got != tt.want {
				t.Errorf("port = %#v, want %#v", got, tt.want)
			}
		})
	}
}

// A number too large for a float is Infinity to every OpenSearch: realmd
// keeps the text (a password such as 7e91356 works) and warns, without
// the value, which may be a secret.
func TestComponent_NumberTooLargeForAFloatIsTextWithAWarning(t *testing.T) {
	const at = "config.yml:10: warning: config.dynamic.authc.ldap.authentication_backend.config.port: "
	const warning = "written unquoted, this is a number too large for a float to OpenSearch, which reads %s; " +
		"realmd keeps the text as written: put it in quotes so that OpenSearch does too"
	tests := []struct {
		name     string
		yaml     string
		infinity string
	}{
		{name: "hex-looking secret", yaml: "7e91356", infinity: "Infinity"},
		{name: "digits e digits", yaml: "123e4567", infinity: "Infinity"},
		{name: "just beyond a float64", yaml: "2e308", infinity: "Infinity"},
		{name: "with a fraction", yaml: "1.5e999", infinity: "Infinity"},
		{name: "negative", yaml: "-1e999", infinity: "-Infinity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := loadPort(t, tt.yaml, at+fmt.Sprintf(warning, tt.infinity)); got != tt.yaml {
				t.Errorf("port = %#v, want the text %q", got, tt.yaml)
			}
		})
	}
}

func TestComponent_NumberSpellingsOpenSearchVersionsReadDifferentlyAreProblems(t *testing.T) {
	const at = "config.yml:10: config.dynamic.authc.ldap.authentication_backend.config.port: "
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{name: "leading 0 is octal to 3.6, text to 3.7", yaml: "010",
			want: `written unquoted, "010" is read differently by OpenSearch versions: 3.6 and earlier read the number 8, 3.7 and later read the text "010"; write 8 for the number, or "010" in quotes for the text`},
		{name: "octal 0777", yaml: "0777",
			want: `written unquoted, "0777" is read differently by OpenSearch versions: 3.6 and earlier read the number 511, 3.7 and later read the text "0777"; write 511 for the number, or "0777" in quotes for the text`},
		{name: "negative octal", yaml: "-010",
			want: `written unquoted, "-010" is read differently by OpenSearch versions: 3.6 and earlier read the number -8, 3.7 and later read the text "-010"; write -8 for the number, or "-010" in quotes for the text`},
		{name: "00", yaml: "00",
			want: `written unquoted, "00" is read differently by OpenSearch versions: 3.6 and earlier read the number 0, 3.7 and later read the text "00"; write 0 for the number, or "00" in quotes for the text`},
		{name: "octal beyond 2^53", yaml: "0777777777777777777",
			want: `written unquoted, "0777777777777777777" is read differently by OpenSearch versions: 3.6 and earlier read the number 18014398509481983, 3.7 and later read the text "0777777777777777777"; write 18014398509481983 for the number, or "0777777777777777777" in quotes for the text`},
		{name: "hex", yaml: "0x1F",
			want: `written unquoted, "0x1F" is read differently by OpenSearch versions: 3.6 and earlier read the number 31, 3.7 and later read the text "0x1F"; write 31 for the number, or "0x1F" in quotes for the text`},
		{name: "hex with an underscore after 0x", yaml: "0x_1F",
			want: `written unquoted, "0x_1F" is read differently by OpenSearch versions: 3.6 and earlier read the number 31, 3.7 and later read the text "0x_1F"; write 31 for the number, or "0x_1F" in quotes for the text`},
		{name: "binary", yaml: "0b101",
			want: `written unquoted, "0b101" is read differently by OpenSearch versions: 3.6 and earlier read the number 5, 3.7 and later read the text "0b101"; write 5 for the number, or "0b101" in quotes for the text`},
		{name: "underscores", yaml: "1_000",
			want: `written unquoted, "1_000" is read differently by OpenSearch versions: 3.6 and earlier read the number 1000, 3.7 and later read the text "1_000"; write 1000 for the number, or "1_000" in quotes for the text`},
		{name: "fraction with underscores", yaml: "1_000.5",
			want: `written unquoted, "1_000.5" is read differently by OpenSearch versions: 3.6 and earlier read the number 1000.5, 3.7 and later read the text "1_000.5"; write 1000.5 for the number, or "1_000.5" in quotes for the text`},
		{name: "plus sign", yaml: "+5",
			want: `written unquoted, "+5" is read differently by OpenSearch versions: 3.6 and earlier read the number 5, 3.7 and later read the text "+5"; write 5 for the number, or "+5" in quotes for the text`},
		{name: "leading dot", yaml: ".5",
			want: `written unquoted, ".5" is read differently by OpenSearch versions: 3.6 and earlier read the number 0.5, 3.7 and later read the text ".5"; write 0.5 for the number, or ".5" in quotes for the text`},
		{name: "leading dot then underscore", yaml: ".5_",
			want: `written unquoted, ".5_" is read differently by OpenSearch versions: 3.6 and earlier read the number 0.5, 3.7 and later read the text ".5_"; write 0.5 for the number, or ".5_" in quotes for the text`},
		{name: "too large for a float to 3.6, text to 3.7", yaml: "1_0e999",
			want: `written unquoted, "1_0e999" is read differently by OpenSearch versions: 3.6 and earlier read a number too large for a float (Infinity), 3.7 and later read the text "1_0e999"; write "1_0e999" in quotes for the text`},
		{name: "base 60 float 3.6 cannot read", yaml: "1:30.5",
			want: `written unquoted, "1:30.5" is read differently by OpenSearch versions: 3.6 and earlier cannot read the number and refuse the file, 3.7 and later read the text "1:30.5"; write "1:30.5" in quotes for the text`},
		{name: "a lone dot and underscore", yaml: "._",
			want: `written unquoted, "._" is read differently by OpenSearch versions: 3.6 and earlier cannot read the number and refuse the file, 3.7 and later read the text "._"; write "._" in quotes for the text`},
		{name: "capitalized infinity", yaml: ".Inf",
			want: `written unquoted, ".Inf" is read differently by OpenSearch versions: 3.6 and earlier cannot read the number and refuse the file, 3.7 and later read the text ".Inf"; write ".Inf" in quotes for the text`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: numberConfig(tt.yaml)}), nil)
			assertProblems(t, s, ps, at+tt.want)
		})
	}
}

// .inf and .nan are floats to every OpenSearch, and Java's
// Double.parseDouble reads neither, so OpenSearch refuses the file.
func TestComponent_InfinityAndNaNAreProblems(t *testing.T) {
	const at = "config.yml:10: config.dynamic.authc.ldap.authentication_backend.config.port: "
	for _, v := range []string{".inf", "-.inf", ".nan"} {
		t.Run(v, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: numberConfig(v)}), nil)
			assertProblems(t, s, ps, at+fmt.Sprintf(`written unquoted, %q is a number OpenSearch cannot read, so it refuses the file; write %q in quotes for the text`, v, v))
		})
	}
	t.Run("written !!float", func(t *testing.T) {
		s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: numberConfig("!!float .inf")}), nil)
		assertProblems(t, s, ps, at+"must be a finite number, not .inf")
	})
}

func TestComponent_SubstitutedNumberSpellingIsText(t *testing.T) {
	// OpenSearch substitutes inside the JSON string "${env.PORT}".
	for _, v := range []string{"0o17", "1:30.5", ".5_", "010", "7e91356"} {
		t.Run(v, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: numberConfig("${env.PORT}")}), map[string]string{"PORT": v})
			assertProblems(t, s, ps)
			if s == nil {
				t.FailNow()
			}
			if got := s.Security.Authc[0].Backend.Config["port"]; got != v {
				t.Errorf("port = %#v, want the text %q", got, v)
			}
		})
	}
}

// A whole-number setting gets the number each OpenSearch makes of the
// spelling, Jackson converting text to it ("08" is 8); where the two
// generations end up with different numbers, or only one with a number,
// that is one problem.
func TestInteger_NumberSpellingsAsEveryOpenSearchReadsThem(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want int
		prob string
	}{
		{name: "decimal", yaml: "7", want: 7},
		{name: "leading 0 then 8 is text that Jackson reads as 8", yaml: "08", want: 8},
		{name: "digits with a leading 0 beyond 7", yaml: "0123456789", want: 123456789},
		{name: "plus sign is 5 to both", yaml: "+5", want: 5},
		{name: "00 is 0 to both", yaml: "00", want: 0},
		{name: "quoted 010 is text, 10", yaml: `"010"`, want: 10},
		{name: "written !!int 010 is octal to both", yaml: "!!int 010", want: 8},
		{name: "010 is 8 to 3.6 and 10 to 3.7", yaml: "010",
			prob: `written unquoted, "010" is read differently by OpenSearch versions: 3.6 and earlier read the number 8, 3.7 and later read the text "010", which they take as 10; write 8 or 10`},
		{name: "0777", yaml: "0777",
			prob: `written unquoted, "0777" is read differently by OpenSearch versions: 3.6 and earlier read the number 511, 3.7 and later read the text "0777", which they take as 777; write 511 or 777`},
		{name: "hex is text to 3.7 that is no number", yaml: "0x1F",
			prob: `written unquoted, "0x1F" is read differently by OpenSearch versions: 3.6 and earlier read the number 31, 3.7 and later read the text "0x1F", which is not a whole number; write 31`},
		{name: "underscores", yaml: "1_0",
			prob: `written unquoted, "1_0" is read differently by OpenSearch versions: 3.6 and earlier read the number 10, 3.7 and later read the text "1_0", which is not a whole number; write 10`},
		{name: "0o17 is text to both", yaml: "0o17", prob: "must be a whole number, not 0o17"},
		{name: "too large for a float is one problem", yaml: "1e999", prob: `must be a whole number, not "1e999"`},
		{name: "infinity", yaml: ".inf", prob: "must be a whole number, not .inf"},
		{name: "a fraction", yaml: "1.5", prob: "must be a whole number, not 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertOrder(t, tt.yaml, nil, tt.want, tt.prob) })
	}
}

// assertOrder loads minimalConfig with its order written as yaml, ${env.X}
// substituted from env, and checks that the order read is want, or that the
// one problem is prob at the order's key when prob is not "".
func assertOrder(t *testing.T, yaml string, env map[string]string, want int, prob string) {
	t.Helper()
	const at = "config.yml:6: config.dynamic.authc.basic.order: "
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: strings.Replace(minimalConfig, "order: 0", "order: "+yaml, 1)}), env)
	if prob != "" {
		assertProblems(t, s, ps, at+prob)
		return
	}
	assertProblems(t, s, ps)
	if s == nil {
		t.FailNow()
	}
	if got := s.Security.Authc[0].Order; got != want {
		t.Errorf("order = %d, want %d", got, want)
	}
}

// OpenSearch reads YAML 1.1's yes, no, on and off as booleans (3.6 and
// earlier through SnakeYAML, 3.7 and later restored them); yaml.v3 reads
// them as text, which a realm's Bool then refused, and core's own
// booleans refused them too. Quoted, they are text to OpenSearch as well.
func TestComponent_YAML11BooleansAreBooleans(t *testing.T) {
	for _, tt := range []struct {
		yaml string
		want any
	}{
		{"yes", true}, {"On", true}, {"OFF", false}, {"no", false}, {"True", true},
		{`"yes"`, "yes"}, {"y", "y"}, {"yES", "yES"},
	} {
		t.Run(tt.yaml, func(t *testing.T) {
			if got := loadPort(t, tt.yaml); got != tt.want {
				t.Errorf("port = %#v, want %#v", got, tt.want)
			}
		})
	}
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: strings.Replace(minimalConfig, "http_authenticator: {type: basic}", "http_authenticator: {type: basic, challenge: off}", 1)}), nil)
	assertProblems(t, s, ps)
	if s != nil && s.Security.Authc[0].Challenge {
		t.Error("challenge: off read as true")
	}
}

// A float reaches the plugin as the text Java writes for it, as OpenSearch
// hands a realm's Settings the JSON Jackson writes: 7.0 is "7.0", never the
// 7 a float64 marshals to, so that the realm's Int refuses it as
// getAsInt (Integer.parseInt) does. realmd gave the realm 7 (found by
// review).
func TestComponent_FloatsReachThePluginAsJavaWritesThem(t *testing.T) {
	tests := []struct {
		yaml string
		want json.Number // in Component.Config
	}{
		{yaml: "7.0", want: "7.0"},
		{yaml: "1e3", want: "1000.0"},
		{yaml: "5.", want: "5.0"},
		{yaml: "-0.0", want: "-0.0"},
		{yaml: "0.5", want: "0.5"},
		{yaml: "0.001", want: "0.001"},
		{yaml: "0.0001", want: "1.0E-4"},
		{yaml: "9999999.5", want: "9999999.5"},
		{yaml: "1e7", want: "1.0E7"},
		{yaml: "1.5e300", want: "1.5E300"},
		{yaml: "!!float 12345678901234567", want: "1.2345678901234568E16"},
		{yaml: "!!float 7", want: "7.0"},
	}
	for _, tt := range tests {
		t.Run(tt.yaml, func(t *testing.T) {
			c := loadPort(t, tt.yaml)
			if c != tt.want {
				t.Errorf("port = %#v, want %#v", c, tt.want)
			}
			raw, err := json.Marshal(map[string]any{"port": c})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := sdk.NewConfig(raw, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := cfg.Int("port", -1); n != -1 || len(cfg.Problems()) != 1 {
				t.Errorf("the plugin's Int reads %d with problems %v, want a problem", n, cfg.Problems())
			}
		})
	}
}

// Jackson reads a string in an int field (order) after Java's String.trim,
// which strips what is up to U+0020 and nothing else: " 5\t" and "\x015"
// are 5, and "\u00a05" (a no-break space) is refused. realmd trimmed with
// strings.TrimSpace, which reversed both (found by review).
func TestInteger_QuotedIsTrimmedAsJava(t *testing.T) {
	tests := []struct {
		name string
		yaml string            // the order value, as written
		env  map[string]string // for ${env.ORDER}
		want int
		prob string
	}{
		{name: "spaces and a tab", yaml: `" 5\t"`, want: 5},
		{name: "a control character", yaml: `"\x015"`, want: 5},
		{name: "a no-break space", yaml: `"\u00a05"`, prob: `must be a whole number, not "\u00a05": it has a Unicode space around it, which OpenSearch does not trim; write 5`},
		{name: "an em space after", yaml: `"5\u2003"`,
			prob: `must be a whole number, not "5\u2003": it has a Unicode space around it, which OpenSearch does not trim; write 5`},
		{name: "substituted, spaces", yaml: "${env.ORDER}", env: map[string]string{"ORDER": " 5 "}, want: 5},
		{name: "substituted, a no-break space", yaml: "${env.ORDER}", env: map[string]string{"ORDER": "\u00a05"},
			prob: `must be a whole number, not "\u00a05": it has a Unicode space around it, which OpenSearch does not trim; write 5`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assertOrder(t, tt.yaml, tt.env, tt.want, tt.prob) })
	}
}

// A quoted boolean is read as Jackson's _parseBooleanPrimitive reads a
// string: trimmed as Java trims, then only true, True, TRUE, false, False
// or FALSE (found by review: realmd matched any case and did not trim).
func TestBoolean_QuotedIsReadAsJackson(t *testing.T) {
	const at = "config.yml:7: config.dynamic.authc.basic.http_authenticator.challenge: "
	tests := []struct {
		name string
		yaml string // the challenge value, as written
		env  map[string]string
		want bool
		prob string
	}{
		{name: "spaces around", yaml: `" false "`, want: false},
		{name: "a tab and a control character", yaml: `"\tfalse\x01"`, want: false},
		{name: "upper case", yaml: `"FALSE"`, want: false},
		{name: "capitalized", yaml: `"True"`, want: true},
		{name: "mixed case", yaml: `"fAlSe"`, prob: `must be true or false, not "fAlSe"`},
		{name: "a no-break space", yaml: `"false\u00a0"`, prob: `must be true or false, not "false\u00a0"`},
		{name: "substituted, spaces", yaml: `"${env.ON}"`, env: map[string]string{"ON": " false"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := strings.Replace(minimalConfig, "order: 0\n        http_authenticator: {type: basic}", "order: 0\n        http_authenticator: {type: basic, challenge: "+tt.yaml+"}", 1)
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: cfg}), tt.env)
			if tt.prob != "" {
				assertProblems(t, s, ps, at+tt.prob)
				return
			}
			assertProblems(t, s, ps)
			if s == nil {
				t.FailNow()
			}
			if got := s.Security.Authc[0].Challenge; got != tt.want {
				t.Errorf("challenge = %v, want %v", got, tt.want)
			}
		})
	}
}
