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
		"ratio":      0.5,
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
	// wire to the plugin as JSON.
	raw, err := json.Marshal(b.Config)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
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
	assertProblems(t, s, ps, "config.yml:8: config.dynamic.authc.jwt.http_authenticator.config.jwt_clock_skew_tolerance_seconds: must be a finite number, not .inf")
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
		{name: "a fraction stays a float", yaml: "0.5", want: 0.5, plugin: "0.5"},
		{name: "written !!float stays a float", yaml: "!!float 12345678901234567", want: float64(12345678901234567), plugin: "12345678901234568"},
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

func TestComponent_NumberSpellingsOpenSearchReadsAlike(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want any // in Component.Config
	}{
		{name: "leading 0 is octal to both", yaml: "010", want: float64(8)},
		{name: "octal 0777", yaml: "0777", want: float64(511)},
		{name: "negative octal", yaml: "-010", want: float64(-8)},
		{name: "octal with an underscore", yaml: "0_10", want: float64(8)},
		{name: "hex", yaml: "0x1F", want: float64(31)},
		{name: "hex with an underscore after 0x", yaml: "0x_1F", want: float64(31)},
		{name: "binary", yaml: "0b101", want: float64(5)},
		{name: "underscores", yaml: "1_000", want: float64(1000)},
		{name: "plus sign", yaml: "+5", want: float64(5)},
		{name: "minus zero", yaml: "-0", want: float64(0)},
		{name: "leading dot", yaml: ".5", want: 0.5},
		{name: "exponent without a dot", yaml: "1e3", want: float64(1000)},
		{name: "trailing dot", yaml: "0.", want: float64(0)},
		{name: "fraction with underscores", yaml: "1_000.5", want: 1000.5},
		{name: "octal beyond 2^53 is kept as text", yaml: "0777777777777777777", want: "18014398509481983"},
		{name: "base 60 integer is text to both", yaml: "1:30", want: "1:30"},
		{name: "quoted is text", yaml: `"0o17"`, want: "0o17"},
		{name: "quoted 08 is text", yaml: `'08'`, want: "08"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: numberConfig(tt.yaml)}), nil)
			assertProblems(t, s, ps)
			if s == nil {
				t.FailNow()
			}
			if got := s.Security.Authc[0].Backend.Config["port"]; got != tt.want {
				t.Errorf("port = %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestComponent_NumberSpellingsOpenSearchReadsOtherwiseAreProblems(t *testing.T) {
	const at = "config.yml:10: config.dynamic.authc.ldap.authentication_backend.config.port: "
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{name: "0o octal is text to OpenSearch", yaml: "0o17",
			want: `written unquoted, "0o17" is text to OpenSearch (YAML 1.1) but the number 15 to realmd; write 15 for the number, or "0o17" in quotes for the text`},
		{name: "negative 0o octal", yaml: "-0o17",
			want: `written unquoted, "-0o17" is text to OpenSearch (YAML 1.1) but the number -15 to realmd; write -15 for the number, or "-0o17" in quotes for the text`},
		{name: "upper-case 0X is text to OpenSearch", yaml: "0X1F",
			want: `written unquoted, "0X1F" is text to OpenSearch (YAML 1.1) but the number 31 to realmd; write 31 for the number, or "0X1F" in quotes for the text`},
		{name: "upper-case 0B is text to OpenSearch", yaml: "0B101",
			want: `written unquoted, "0B101" is text to OpenSearch (YAML 1.1) but the number 5 to realmd; write 5 for the number, or "0B101" in quotes for the text`},
		{name: "leading 0 then 8 is text to OpenSearch", yaml: "08",
			want: `written unquoted, "08" is text to OpenSearch (YAML 1.1) but the number 8 to realmd; write 8 for the number, or "08" in quotes for the text`},
		{name: "leading 0 then 9 with an underscore", yaml: "0_9",
			want: `written unquoted, "0_9" is text to OpenSearch (YAML 1.1) but the number 9 to realmd; write 9 for the number, or "0_9" in quotes for the text`},
		{name: "underscore before 0x", yaml: "0_x1F",
			want: `written unquoted, "0_x1F" is text to OpenSearch (YAML 1.1) but the number 31 to realmd; write 31 for the number, or "0_x1F" in quotes for the text`},
		{name: "underscore in the exponent", yaml: "1e1_0",
			want: `written unquoted, "1e1_0" is text to OpenSearch (YAML 1.1) but the number 10000000000 to realmd; write 10000000000 for the number, or "1e1_0" in quotes for the text`},
		{name: "leading dot then underscore is a number to OpenSearch", yaml: ".5_",
			want: `written unquoted, ".5_" is the number 0.5 to OpenSearch (YAML 1.1) but text to realmd; write 0.5 for the number, or ".5_" in quotes for the text`},
		{name: "octal beyond 64 bits", yaml: "0777777777777777777777777",
			want: `written unquoted, "0777777777777777777777777" is the number 4722366482869645213695 to OpenSearch (YAML 1.1) but the number 777777777777777777777777 to realmd; write 4722366482869645213695 for the number, or "0777777777777777777777777" in quotes for the text`},
		{name: "base 60 float OpenSearch cannot read", yaml: "1:30.5",
			want: `written unquoted, "1:30.5" is a YAML 1.1 number that OpenSearch cannot read, so it refuses the file; write "1:30.5" in quotes for the text`},
		{name: "a lone dot and underscore", yaml: "._",
			want: `written unquoted, "._" is a YAML 1.1 number that OpenSearch cannot read, so it refuses the file; write "._" in quotes for the text`},
		{name: "infinity", yaml: ".inf", want: `must be a finite number, not .inf`},
		{name: "too large for a float", yaml: "1e999", want: `must be a finite number, not 1e999`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: numberConfig(tt.yaml)}), nil)
			assertProblems(t, s, ps, at+tt.want)
		})
	}
}

func TestComponent_SubstitutedNumberSpellingIsText(t *testing.T) {
	// OpenSearch substitutes inside the JSON string "${env.PORT}".
	for _, v := range []string{"0o17", "1:30.5", ".5_", "010"} {
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

func TestInteger_NumberSpellingOpenSearchReadsOtherwiseIsOneProblem(t *testing.T) {
	s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: strings.Replace(minimalConfig, "order: 0", "order: 0o17", 1)}), nil)
	assertProblems(t, s, ps, `config.yml:6: config.dynamic.authc.basic.order: written unquoted, "0o17" is text to OpenSearch (YAML 1.1) but the number 15 to realmd; write 15 for the number, or "0o17" in quotes for the text`)
}
