package ldap

import (
	"context"
	"crypto/tls"
	"encoding/pem"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/sdk"
)

func problemKeys(cfg *sdk.Config) []string {
	var keys []string
	for _, p := range cfg.Problems() {
		keys = append(keys, p.Key)
	}
	return keys
}

func TestReadConfig_DefaultsAreOpenSearchCodeDefaults(t *testing.T) {
	cfg := readTestConfig(t, map[string]any{}, nil)
	c := ReadConfig(cfg)
	if ps := cfg.Problems(); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	checks := []struct {
		name string
		ok   bool
	}{
		{"hosts localhost:389", len(c.Conn.Hosts) == 1 && c.Conn.Hosts[0].Addr == "localhost:389" && !c.Conn.Hosts[0].LDAPS},
		{"user search", slices.Equal(c.UserBases, []SearchBase{{Name: "userbase", Base: "", Filter: "(sAMAccountName={0})", Order: DefaultOrder}})},
		{"role search", slices.Equal(c.RoleBases, []SearchBase{{Name: "rolebase", Base: "", Filter: "(member={0})", Order: DefaultOrder}})},
		{"userrolename memberOf", slices.Equal(c.UserRoleNames, []string{"memberOf"})},
		{"rolename name", c.RoleName == "name"},
		{"no nesting", !c.ResolveNestedRoles && c.MaxNestedDepth == 30},
		{"role entry cap", c.MaxRoleEntries == DefaultMaxRoleEntries},
		{"rolesearch enabled", c.RoleSearchEnabled},
		{"attribute rules", c.CustomAttrMaxLen == 36 && c.CustomAttrAllow.Match("anything")},
		{"return attributes", slices.Equal(c.ReturnAttributes, []string{"*"}) && c.FollowReferrals},
		{"first-hit user search", !c.SearchAllBases},
		{"fake login", strings.HasPrefix(c.FakeLoginDN, "CN=faketomakebindfail,DC=") && len(c.FakeLoginDN) == 25+36 &&
			c.FakeLoginPassword == "fakeLoginPwd123"},
		{"timeouts", c.Conn.ConnectTimeout == 5*time.Second && c.Conn.ResponseTimeout == 0},
		{"TLS", c.Conn.TLS.VerifyHostnames && !c.Conn.TLS.TrustAll &&
			c.Conn.TLS.MinVersion == tls.VersionTLS12 && c.Conn.TLS.MaxVersion == tls.VersionTLS13},
		{"pool", c.Conn.Pool == PoolConfig{MinSize: 3, MaxSize: 10, PruningPeriod: 5 * time.Minute, IdleTime: 10 * time.Minute,
			Validation: ValidationConfig{Periodically: true, Period: 30 * time.Minute, Timeout: 5 * time.Second,
				SearchFilter: "(objectClass=*)", CompareAttribute: "objectClass", CompareValue: "top"}}},
		{"strategy", c.Conn.Strategy == "active_passive"},
	}
	for _, ch := range checks {
		if !ch.ok {
			t.Errorf("default %s: %+v", ch.name, c)
		}
	}
}

func TestReadConfig_AcceptsOpenSearchSampleBlocks(t *testing.T) {
	// config.dynamic.authc.ldap and authz.roles_from_myldap of OpenSearch's
	// shipped config.yml; nulls are absent after YAML decoding.
	authc := map[string]any{
		"enable_ssl": false, "enable_start_tls": false, "enable_ssl_client_auth": false, "verify_hostnames": true,
		"hosts": []any{"localhost:8389"}, "userbase": "ou=people,dc=example,dc=com", "usersearch": "(sAMAccountName={0})",
	}
	authz := merge(authc, map[string]any{
		"rolebase": "ou=groups,dc=example,dc=com", "rolesearch": "(member={0})", "userrolename": "disabled",
		"rolename": "cn", "resolve_nested_roles": true, "usersearch": "(uid={0})",
		"skip_users": []any{"cn=Michael Jackson,ou*people,o=TEST", `/\S*/`},
	})
	for name, m := range map[string]map[string]any{"authc": authc, "authz": authz} {
		cfg := readTestConfig(t, m, nil)
		c := ReadConfig(cfg)
		if ps := cfg.Problems(); len(ps) > 0 {
			t.Fatalf("%s: problems %v", name, ps)
		}
		if !c.SearchAllBases {
			t.Errorf("%s: userbase set means searching all bases", name)
		}
	}
}

func TestReadConfig_Problems(t *testing.T) {
	tests := []struct {
		name   string
		config map[string]any
		want   []string
	}{
		{name: "userbase with users.*", config: map[string]any{"userbase": "o=x", "users.a.base": "o=x"}, want: []string{"userbase"}},
		{name: "bad port", config: map[string]any{"hosts": []any{"ok:389", "ldap://x:notaport"}}, want: []string{"hosts[1]"}},
		{name: "bad scheme in a comma list", config: map[string]any{"hosts": "a, ftp://x"}, want: []string{"hosts"}},
		{name: "URL with a DN", config: map[string]any{"hosts": []any{"ldap://x/dc=a"}}, want: []string{"hosts[0]"}},
		{name: "empty host", config: map[string]any{"hosts": []any{""}}, want: []string{"hosts[0]"}},
		{name: "no hosts", config: map[string]any{"hosts": []any{}}, want: []string{"hosts"}},
		{name: "ldaps with starttls", config: map[string]any{"enable_ssl": true, "enable_start_tls": true}, want: []string{"hosts"}},
		{name: "bad user filter", config: map[string]any{"usersearch": "(uid={0}"}, want: []string{"usersearch"}},
		{name: "bad multi-base filter", config: map[string]any{"users.a.search": "((("}, want: []string{"users.a.search"}},
		{name: "bad user base", config: map[string]any{"users.a.base": "not a dn"}, want: []string{"users.a.base"}},
		{name: "unknown key under a base", config: map[string]any{"users.a.serach": "(uid={0})"}, want: []string{"users.a.serach"}},
		{name: "users that is not a map", config: map[string]any{"users": "ou=x"}, want: []string{"users"}},
		{name: "roles that is a list", config: map[string]any{"roles": []any{"ou=x"}}, want: []string{"roles"}},
		{name: "bad role filter", config: map[string]any{"rolesearch": "(member={0}"}, want: []string{"rolesearch"}},
		{name: "bad role base", config: map[string]any{"rolebase": "groups"}, want: []string{"rolebase"}},
		{name: "bad role filter while role search is off", config: map[string]any{"rolesearch": "(((", "rolebase": "x",
			"rolesearch_enabled": false}},
		{name: "pool min above max", config: map[string]any{"pool.min_size": 11}, want: []string{"pool.min_size"}},
		{name: "pool max 0", config: map[string]any{"pool": map[string]any{"max_size": 0, "min_size": 0}}, want: []string{"pool.max_size"}},
		{name: "only old protocols", config: map[string]any{"enabled_ssl_protocols": []any{"TLSv1.1", "SSLv3"}}, want: []string{"enabled_ssl_protocols"}},
		{name: "unknown ciphers", config: map[string]any{"enabled_ssl_ciphers": "AAA"}, want: []string{"enabled_ssl_ciphers"}},
		{name: "client auth without a certificate", config: map[string]any{"enable_ssl_client_auth": true}, want: []string{"enable_ssl_client_auth"}},
		{name: "bad allowlist regex", config: map[string]any{"custom_attr_allowlist": []any{"ok", "/[/"}}, want: []string{"custom_attr_allowlist[1]"}},
		{name: "bad strategy", config: map[string]any{"connection_strategy": "fastest"}, want: []string{"connection_strategy"}},
		{name: "bad validation strategy", config: map[string]any{"validation.strategy": "ping"}, want: []string{"validation.strategy"}},
		{name: "java key store", config: map[string]any{"truststore_filepath": "t.jks"}, want: []string{"truststore_filepath"}},
		{name: "not PEM", config: map[string]any{"pemtrustedcas_content": "garbage"}, want: []string{"pemtrustedcas_content"}},
		{name: "negative depth", config: map[string]any{"max_nested_depth": -1}, want: []string{"max_nested_depth"}},
		{name: "no role entries allowed", config: map[string]any{"max_role_entries": 0}, want: []string{"max_role_entries"}},
		{name: "typo", config: map[string]any{"usrsearch": "(uid={0})"}, want: []string{"usrsearch"}},
		{name: "wrong type", config: map[string]any{"enable_ssl": "yes"}, want: []string{"enable_ssl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := readTestConfig(t, tt.config, nil)
			ReadConfig(cfg)
			if got := problemKeys(cfg); !slices.Equal(got, tt.want) {
				t.Fatalf("problem keys %q, want %q (%v)", got, tt.want, cfg.Problems())
			}
		})
	}
}

// The pool runs tickers with these periods, and time.NewTicker panics on a
// non-positive interval: every spelling of each period must be checked. The
// validation timeout and idle time must be positive too: zero meant no
// deadline, or closing every idle connection at once.
func TestReadConfig_PeriodsMustBePositive(t *testing.T) {
	tests := []struct {
		name    string
		config  map[string]any
		want    []string
		pruning time.Duration
	}{
		{name: "legacy pruning period 0", config: map[string]any{"pool.enabled": true, "pruning.period": 0}, want: []string{"pruning.period"}},
		{name: "legacy pruning period negative", config: map[string]any{"pruning": map[string]any{"period": -1}}, want: []string{"pruning.period"}},
		{name: "pruning period 0", config: map[string]any{"pool.pruning_period": 0}, want: []string{"pool.pruning_period"}},
		{name: "pruning period negative", config: map[string]any{"pool.pruning_period": "-3"}, want: []string{"pool.pruning_period"}},
		{name: "pruning period too long for a duration", config: map[string]any{"pool.pruning_period": 1 << 50}, want: []string{"pool.pruning_period"}},
		{name: "bad current name beside a good legacy one", config: map[string]any{"pool.pruning_period": 0, "pruning.period": 2},
			want: []string{"pool.pruning_period"}},
		{name: "validation period 0", config: map[string]any{"validation.period": 0}, want: []string{"validation.period"}},
		{name: "validation period negative", config: map[string]any{"validation": map[string]any{"enabled": true, "period": -5}},
			want: []string{"validation.period"}},
		{name: "wrong type is one problem", config: map[string]any{"pruning.period": "soon"}, want: []string{"pruning.period"}},
		{name: "validation timeout 0 would wait forever", config: map[string]any{"validation.timeout": 0}, want: []string{"validation.timeout"}},
		{name: "validation timeout too long for a duration", config: map[string]any{"validation.timeout": 1 << 50}, want: []string{"validation.timeout"}},
		{name: "idle time 0", config: map[string]any{"pool.idle_time": 0}, want: []string{"pool.idle_time"}},
		{name: "legacy idle time negative", config: map[string]any{"pruning.idleTime": -1}, want: []string{"pruning.idleTime"}},
		{name: "legacy pruning period", config: map[string]any{"pruning.period": 7}, pruning: 7 * time.Minute},
		{name: "current name wins over legacy", config: map[string]any{"pool.pruning_period": 2, "pruning.period": 7}, pruning: 2 * time.Minute},
		{name: "null is the default", config: map[string]any{"pruning.period": nil}, pruning: DefaultPruningPeriod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := readTestConfig(t, tt.config, nil)
			c := ReadConfig(cfg)
			if got := problemKeys(cfg); !slices.Equal(got, tt.want) {
				t.Fatalf("problem keys %q, want %q (%v)", got, tt.want, cfg.Problems())
			}
			p := c.Conn.Pool
			if p.PruningPeriod <= 0 || p.Validation.Period <= 0 || p.Validation.Timeout <= 0 || p.IdleTime <= 0 {
				t.Fatalf("pruning period %v, validation period %v, validation timeout %v, idle time %v; all must stay positive",
					p.PruningPeriod, p.Validation.Period, p.Validation.Timeout, p.IdleTime)
			}
			if tt.pruning != 0 && p.PruningPeriod != tt.pruning {
				t.Fatalf("pruning period %v, want %v", p.PruningPeriod, tt.pruning)
			}
		})
	}
}

func TestReadConfig_KeysAndUnits(t *testing.T) {
	cfg := readTestConfig(t, map[string]any{
		"users":                    map[string]any{"b": map[string]any{"base": "o=b", "search": "(uid={0})"}, "a": map[string]any{"base": "o=a", "order": 2}, "c": map[string]any{"base": "o=c", "order": 1}},
		"roles":                    map[string]any{"r": map[string]any{"base": "o=r"}},
		"rolebase":                 "o=ignored",
		"connect_timeout":          -5,
		"response_timeout":         "250",
		"pool":                     map[string]any{"enabled": true, "type": "blocking", "idle_time": 2},
		"pruning":                  map[string]any{"period": 3},
		"validation":               map[string]any{"enabled": true, "strategy": "compare", "timeout": 2},
		"userrolename":             "memberOf, description",
		"enabled_ssl_protocols":    []any{"TLSv1.3"},
		"custom_return_attributes": "cn, memberOf",
		"fakelogin_enabled":        true,
	}, nil)
	c := ReadConfig(cfg)
	if ps := cfg.Problems(); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	var bases []string
	for _, b := range c.UserBases {
		bases = append(bases, b.Base+" "+b.Filter)
	}
	if want := []string{"o=c (sAMAccountName={0})", "o=a (sAMAccountName={0})", "o=b (uid={0})"}; !slices.Equal(bases, want) {
		t.Errorf("user bases %q, want %q", bases, want)
	}
	if len(c.RoleBases) != 1 || c.RoleBases[0].Base != "o=r" || c.RoleBases[0].Filter != DefaultRoleSearch {
		t.Errorf("role bases %+v", c.RoleBases)
	}
	p := c.Conn.Pool
	if c.Conn.ConnectTimeout != 0 || c.Conn.ResponseTimeout != 250*time.Millisecond || !p.Enabled || !p.Blocking ||
		p.IdleTime != 2*time.Minute || p.PruningPeriod != 3*time.Minute || !p.Validation.Compare || p.Validation.Timeout != 2*time.Second {
		t.Errorf("connection config %+v", c.Conn)
	}
	if !slices.Equal(c.UserRoleNames, []string{"memberOf", "description"}) || !slices.Equal(c.ReturnAttributes, []string{"cn", "memberOf"}) {
		t.Errorf("lists %q %q", c.UserRoleNames, c.ReturnAttributes)
	}
	if c.Conn.TLS.MinVersion != tls.VersionTLS13 || !c.SearchAllBases {
		t.Errorf("TLS %x, all bases %v", c.Conn.TLS.MinVersion, c.SearchAllBases)
	}
}

func TestParseHost(t *testing.T) {
	tests := []struct {
		raw       string
		ssl       bool
		wantAddr  string
		wantName  string
		wantLDAPS bool
		wantErr   bool
	}{
		{raw: "ldap.example.com", wantAddr: "ldap.example.com:389", wantName: "ldap.example.com"},
		{raw: "ldap.example.com", ssl: true, wantAddr: "ldap.example.com:636", wantName: "ldap.example.com", wantLDAPS: true},
		{raw: "10.0.0.1:1389", wantAddr: "10.0.0.1:1389", wantName: "10.0.0.1"},
		{raw: "[::1]:1636", ssl: true, wantAddr: "[::1]:1636", wantName: "::1", wantLDAPS: true},
		{raw: "::1", wantAddr: "[::1]:389", wantName: "::1"},
		{raw: "ldaps://dc1.corp", wantAddr: "dc1.corp:636", wantName: "dc1.corp", wantLDAPS: true},
		{raw: "ldap://dc1.corp:3268/", ssl: true, wantAddr: "dc1.corp:3268", wantName: "dc1.corp"},
		{raw: "LDAPS://dc1.corp:3269", wantAddr: "dc1.corp:3269", wantName: "dc1.corp", wantLDAPS: true},
		{raw: "ldapi://%2Frun%2Fslapd", wantErr: true},
		{raw: "host:0", wantErr: true},
		{raw: "host:70000", wantErr: true},
		{raw: ":389", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			h, err := parseHost(tt.raw, tt.ssl)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && (h.Addr != tt.wantAddr || h.Name != tt.wantName || h.LDAPS != tt.wantLDAPS) {
				t.Fatalf("got %+v", h)
			}
		})
	}
}

func TestFillFilter_EscapesValuesInOnePass(t *testing.T) {
	tests := []struct {
		name, filter, v0, v1, v2, want string
	}{
		{name: "injection", filter: "(uid={0})", v0: "*)(uid=*", want: `(uid=\2a\29\28uid=\2a)`},
		{name: "backslash and NUL", filter: "(cn={0})", v0: "a\\b\x00", want: `(cn=a\5cb\00)`},
		{name: "a value naming a placeholder stays a value", filter: "(&(a={0})(b={1}))", v0: "{1}", v1: "x", want: "(&(a={1})(b=x))"},
		{name: "DN with an escaped comma", filter: "(member={0})", v0: `cn=Special\, Sign,o=TEST`, want: `(member=cn=Special\5c, Sign,o=TEST)`},
		{name: "missing parentheses", filter: "uid={0}", v0: "bob", want: "(uid=bob)"},
		{name: "all placeholders", filter: "(|(a={0})(b={1})(c={2}))", v0: "0", v1: "1", v2: "2", want: "(|(a=0)(b=1)(c=2))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fillFilter(tt.filter, tt.v0, tt.v1, tt.v2); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// OpenSearch hands filters to JNDI, which skips whitespace between the
// parts of &, | and ! (what a filter folded over two YAML lines has), so
// such a filter must work here too; whitespace inside a value must not move.
func TestCompactFilter_DropsSpacesBetweenPartsOnly(t *testing.T) {
	tests := []struct{ name, filter, want string }{
		{name: "value with spaces", filter: "(cn=John Smith)", want: "(cn=John Smith)"},
		{name: "spaces at both ends of a value", filter: "(cn= a b )", want: "(cn= a b )"},
		{name: "between components", filter: "(&(objectClass=inetOrgPerson) (uid={0}))", want: "(&(objectClass=inetOrgPerson)(uid={0}))"},
		{name: "after the operator and before the close", filter: "(& (objectClass=groupOfNames) (member={0}) )", want: "(&(objectClass=groupOfNames)(member={0}))"},
		{name: "folded lines, tabs and CRLF", filter: " \t(|(a=1)\r\n\t(b=2))\n", want: "(|(a=1)(b=2))"},
		{name: "not", filter: "(! (cn=x y))", want: "(!(cn=x y))"},
		{name: "nested with values keeping spaces", filter: "(& (cn=A B) (| (sn= c ) (sn=d e)) )", want: "(&(cn=A B)(|(sn= c )(sn=d e)))"},
		{name: "escaped parens in a value", filter: `(& (cn=a\29 \28b) (sn=x))`, want: `(&(cn=a\29 \28b)(sn=x))`},
		{name: "value starting with an operator character", filter: "(&(cn=& x) (cn=| y))", want: "(&(cn=& x)(cn=| y))"},
		{name: "no outer parentheses", filter: " cn=John Smith ", want: "cn=John Smith"},
		{name: "already compact", filter: "(&(a=b)(!(c=d)))", want: "(&(a=b)(!(c=d)))"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := compactFilter(tt.filter); got != tt.want {
				t.Fatalf("compactFilter(%q) = %q, want %q", tt.filter, got, tt.want)
			}
			if _, err := goldap.CompileFilter(fillFilter(tt.filter, "x", "x", "x")); err != nil {
				t.Fatalf("filled %q does not compile: %v", tt.filter, err)
			}
		})
	}
	// Values are filled in after compaction, so a login's spaces stay.
	if got, want := fillFilter("(& (uid={0}) )", " a ) (b ", "", ""), `(&(uid= a \29 \28b ))`; got != want {
		t.Fatalf("fillFilter: got %q, want %q", got, want)
	}
}

// A usersearch and rolesearch written with spaces between their parts
// (found by review) load without a config problem and find the user.
func TestReadConfig_FilterWithSpacesBetweenComponents(t *testing.T) {
	s := startDirectory(t)
	cfg := map[string]any{
		"hosts":      s.LDAPAddr(),
		"usersearch": "(&(objectClass=inetOrgPerson) (uid={0}))",
		"rolebase":   "ou=groups,dc=example,dc=org",
		"rolesearch": "(& (objectClass=groupOfNames) (member={0}) )",
		"rolename":   "cn", "userrolename": "none",
	}
	c := readTestConfig(t, cfg, nil)
	b, _ := NewBackend(c)
	if err := c.Err(); err != nil {
		t.Fatalf("config refused: %v", err)
	}
	provision(t, b.(*backend).realm)
	u, err := b.Authenticate(context.Background(), creds("alice", "alicepw"))
	if err != nil || u == nil {
		t.Fatalf("Authenticate: %v %v", u, err)
	}
}

// Config warnings travel in the Configure answer (cfg.Warn), so `realmd
// check` shows them at their lines and serve logs each once; the factory
// logged them itself before, twice at serve and never in check.
func TestReadConfig_WarningsAreReportedNotLogged(t *testing.T) {
	ca, _ := testCA(t, "warn CA")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		config map[string]any
		want   string // the warning's key
	}{
		{name: "bind_dn without a password", config: map[string]any{"bind_dn": "cn=admin,dc=example"}, want: "bind_dn"},
		{name: "old protocols beside TLSv1.2", config: map[string]any{"enabled_ssl_protocols": []any{"TLSv1.1", "TLSv1.2"}}, want: "enabled_ssl_protocols"},
		{name: "unknown ciphers beside known ones", config: map[string]any{"enabled_ssl_ciphers": []any{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "AAA"}}, want: "enabled_ssl_ciphers"},
		{name: "a key store alias", config: map[string]any{"cert_alias": "x"}, want: "cert_alias"},
		{name: "a CA file and content", config: map[string]any{"pemtrustedcas_filepath": caFile, "pemtrustedcas_content": "ignored"}, want: "pemtrustedcas_content"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs testenv.LogBuffer
			cfg := readTestConfig(t, tt.config, &logs)
			ReadConfig(cfg)
			if ps := cfg.Problems(); len(ps) > 0 {
				t.Fatalf("problems: %v", ps)
			}
			ws := cfg.Warnings()
			if len(ws) != 1 || ws[0].Key != tt.want {
				t.Errorf("warnings %v, want one for %s", ws, tt.want)
			}
			if strings.Contains(logs.String(), "[WARN]") || strings.Contains(logs.String(), "[ERROR]") {
				t.Errorf("the factory logged it itself:\n%s", logs.String())
			}
		})
	}
}

// An empty list setting reads as OpenSearch reads it: getAsList gives the
// default (with a warning, as "" reads like "none"), but userrolename is
// read with Settings.get and split, so "" names no attribute. An empty
// enabled_ssl_protocols is the default protocols, not a config problem
// (found by review: LDAPAuthorizationBackend reads it with getAsList).
func TestReadConfig_EmptyListSettings(t *testing.T) {
	cfg := readTestConfig(t, map[string]any{"hosts": "", "custom_attr_allowlist": ",", "userrolename": "", "exclude_roles": "",
		"enabled_ssl_protocols": ""}, nil)
	c := ReadConfig(cfg)
	if ps := cfg.Problems(); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if len(c.Conn.Hosts) != 1 || c.Conn.Hosts[0].Addr != "localhost:389" {
		t.Errorf("hosts %+v, want localhost:389", c.Conn.Hosts)
	}
	if !c.CustomAttrAllow.Match("mail") {
		t.Error("custom_attr_allowlist \",\" does not allow every attribute, as OpenSearch's default does")
	}
	if len(c.UserRoleNames) != 0 || len(c.ExcludeRoles) != 0 {
		t.Errorf("userrolename %q, exclude_roles %v, want none", c.UserRoleNames, c.ExcludeRoles)
	}
	if c.Conn.TLS.MinVersion != tls.VersionTLS12 || c.Conn.TLS.MaxVersion != tls.VersionTLS13 {
		t.Errorf("TLS versions %x to %x, want the default TLSv1.2 to TLSv1.3", c.Conn.TLS.MinVersion, c.Conn.TLS.MaxVersion)
	}
	var warned []string
	for _, w := range cfg.Warnings() {
		warned = append(warned, w.Key)
	}
	if want := []string{"custom_attr_allowlist", "enabled_ssl_protocols", "hosts"}; !slices.Equal(warned, want) {
		t.Errorf("warnings %v, want keys %q", cfg.Warnings(), want)
	}
}

// OpenSearch reads connect_timeout and response_timeout with getAsLong: a
// value beyond a Java int is a setting there, not an error, and one beyond
// what a time.Duration holds is the longest it holds.
func TestReadConfig_TimeoutsBeyondAJavaInt(t *testing.T) {
	cfg := readTestConfig(t, map[string]any{
		"connect_timeout":  3000000000,
		"response_timeout": int64(math.MaxInt64),
	}, nil)
	c := ReadConfig(cfg)
	if ps := cfg.Problems(); len(ps) > 0 {
		t.Fatalf("problems: %v", ps)
	}
	if want := 3000000000 * time.Millisecond; c.Conn.ConnectTimeout != want {
		t.Errorf("connect_timeout = %v, want %v", c.Conn.ConnectTimeout, want)
	}
	if want := time.Duration(math.MaxInt64 / int64(time.Millisecond) * int64(time.Millisecond)); c.Conn.ResponseTimeout != want {
		t.Errorf("response_timeout = %v, want the longest duration, %v", c.Conn.ResponseTimeout, want)
	}
}
