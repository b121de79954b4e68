package ldap

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/sdk"
)

func TestAuthenticate_BindSucceedsAndFails(t *testing.T) {
	s := startDirectory(t)
	legacy := map[string]any{"hosts": []any{s.LDAPAddr()}, "usersearch": "(uid={0})"}
	multi := map[string]any{
		"hosts":           s.LDAPAddr(),
		"users.u1.base":   "ou=people,o=TEST",
		"users.u1.search": "(uid={0})",
		"users.u2.base":   "ou=people2,o=TEST",
		"users.u2.search": "(uid={0})",
	}
	tests := []struct {
		name     string
		config   map[string]any
		user     string
		password string
		want     string // user name; "" means rejected
		fake     bool   // the bind went to the fake DN
	}{
		{name: "right password gives the DN", config: legacy, user: "jacksonm", password: "secret", want: jacksonDN},
		{name: "wrong password is rejected", config: legacy, user: "jacksonm", password: "wrong"},
		{name: "empty password is rejected", config: legacy, user: "jacksonm", password: ""},
		{name: "unknown user is rejected after a fake bind", config: legacy, user: "nobody", password: "secret", fake: true},
		{name: "username_attribute names the user", config: merge(legacy, map[string]any{"username_attribute": "UID"}),
			user: "jacksonm", password: "secret", want: "jacksonm"},
		{name: "escaped comma in the DN", config: legacy, user: "ssign", password: "ssignsecret", want: `cn=Special\2C Sign,ou=people,o=TEST`},
		{name: "bind_dn searches as that user", config: merge(legacy, map[string]any{
			"bind_dn": "cn=Captain Spock,ou=people,o=TEST", "password": "spocksecret"}),
			user: "jacksonm", password: "secret", want: jacksonDN},
		{name: "legacy userbase finds a user under it", config: merge(legacy, map[string]any{"userbase": "ou=people2,o=TEST"}),
			user: "presleye", password: "secret", want: "cn=Elvis Presley,ou=people2,o=TEST"},
		{name: "legacy userbase with two hits is not found", config: merge(legacy, map[string]any{"userbase": "o=TEST"}),
			user: "jacksonm", password: "secret", fake: true},
		{name: "multi-base takes the first base with a hit", config: multi, user: "jacksonm", password: "secret", want: jacksonDN},
		{name: "multi-base searches the next base", config: multi, user: "presleye", password: "secret",
			want: "cn=Elvis Presley,ou=people2,o=TEST"},
		{name: "search_all_bases with duplicates is not found", config: merge(multi, map[string]any{"search_all_bases": true}),
			user: "jacksonm", password: "secret", fake: true},
		{name: "order puts a base first", config: merge(multi, map[string]any{"users.u2.order": 1}),
			user: "jacksonm", password: "secret", want: "cn=Michael Jackson2,ou=people2,o=TEST"},
		{name: "second suffix through the naming contexts", config: map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})"},
			user: "alice", password: "alicepw", want: "uid=alice,ou=people,dc=example,dc=org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBackend(t, tt.config, nil)
			u, err := b.Authenticate(context.Background(), creds(tt.user, tt.password))
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			switch {
			case tt.want == "" && u != nil:
				t.Fatalf("got user %q, want rejection", u.Name)
			case tt.want != "" && u == nil:
				t.Fatal("rejected, want a user")
			case u != nil && u.Name != tt.want:
				t.Fatalf("name = %q, want %q", u.Name, tt.want)
			}
			if u != nil && (u.LoginName != tt.user || u.CacheTTL != sdk.CacheForever || len(u.BackendRoles) != 0) {
				t.Fatalf("user = %+v", u)
			}
			if got := b.fakeBinds.Load() == 1; got != tt.fake {
				t.Fatalf("fake bind happened = %v, want %v", got, tt.fake)
			}
		})
	}
}

func TestAuthenticate_InjectionMatchesNobody(t *testing.T) {
	s := startDirectory(t)
	b := newTestBackend(t, map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})"}, nil)
	for i, name := range []string{"*)(uid=*", "*", "*jack*", "jacksonm)(|(uid=*", `jacksonm\`} {
		u, err := b.Authenticate(context.Background(), creds(name, "secret"))
		if err != nil || u != nil {
			t.Fatalf("%q: got %v, %v; want rejection", name, u, err)
		}
		if got := b.fakeBinds.Load(); got != int64(i+1) {
			t.Fatalf("%q matched an entry: %d fake binds after %d attempts", name, got, i+1)
		}
	}
}

func TestAuthenticate_AttributesFollowTheAllowlistAndLengthRules(t *testing.T) {
	s := startDirectory(t)
	base := map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})"}
	tests := []struct {
		name   string
		config map[string]any
		want   map[string]string
	}{
		{name: "defaults keep short text attributes, first value", config: base, want: map[string]string{
			AttrOriginalUsername:    "jacksonm",
			AttrDN:                  jacksonDN,
			"attr.ldap.objectClass": "inetOrgPerson",
			"attr.ldap.cn":          "Michael Jackson",
			"attr.ldap.sn":          "jackson",
			"attr.ldap.uid":         "jacksonm",
			"attr.ldap.mail":        "jacksonm@example.com",
			"attr.ldap.ou":          "Human Resources",
		}},
		{name: "maxval_len 0 keeps only name and DN", config: merge(base, map[string]any{"custom_attr_maxval_len": 0}),
			want: map[string]string{AttrOriginalUsername: "jacksonm", AttrDN: jacksonDN}},
		{name: "maxval_len drops longer values", config: merge(base, map[string]any{"custom_attr_maxval_len": 7}),
			want: map[string]string{AttrOriginalUsername: "jacksonm", AttrDN: jacksonDN, "attr.ldap.sn": "jackson"}},
		{name: "allowlist patterns", config: merge(base, map[string]any{"custom_attr_allowlist": "*objectClass*,mail"}),
			want: map[string]string{AttrOriginalUsername: "jacksonm", AttrDN: jacksonDN,
				"attr.ldap.objectClass": "inetOrgPerson", "attr.ldap.mail": "jacksonm@example.com"}},
		{name: "deprecated whitelist key", config: merge(base, map[string]any{"custom_attr_whitelist": []any{"/s.|ui./"}}),
			want: map[string]string{AttrOriginalUsername: "jacksonm", AttrDN: jacksonDN,
				"attr.ldap.sn": "jackson", "attr.ldap.uid": "jacksonm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBackend(t, tt.config, nil)
			u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret"))
			if err != nil || u == nil {
				t.Fatalf("Authenticate: %v, %v", u, err)
			}
			if !maps.Equal(u.Attributes, tt.want) {
				t.Fatalf("attributes\n got %v\nwant %v", u.Attributes, tt.want)
			}
		})
	}
}

func TestAuthenticate_WrongServiceBindIsUnavailable(t *testing.T) {
	s := startDirectory(t)
	logs := &testenv.LogBuffer{}
	b := newTestBackend(t, map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})",
		"bind_dn": "cn=Captain Spock,ou=people,o=TEST", "password": "wrong"}, logs)
	_, err := b.Authenticate(context.Background(), creds("jacksonm", "secret"))
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if !contains(logs.String(), "ldap service bind failed", s.LDAPAddr()) {
		t.Fatalf("log lacks the service bind failure:\n%s", logs)
	}
}

// A configured search base the directory does not hold (a typo) fails the
// call, as OpenSearch's NO_SUCH_OBJECT exception does: the authentication
// backend fails (its domain is skipped, then 401 as in OpenSearch's
// BackendRegistry) and the authorization backend answers an error (logged,
// no roles), not unavailable; the realm warns once per base, naming the key
// and the base. It was an empty result: every login 401 with a debug line,
// roles empty with no line at all (found by review).
func TestSearchBase_MissingBaseFailsAndWarnsOnce(t *testing.T) {
	s := startDirectory(t)
	people := map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})"}
	tests := []struct {
		name   string
		config map[string]any
		authz  bool
		key    string
		base   string
	}{
		{name: "userbase", config: merge(people, map[string]any{"userbase": "ou=peple,o=TEST"}), key: "userbase", base: "ou=peple,o=TEST"},
		{name: "users.*.base, before one that exists", config: map[string]any{"hosts": s.LDAPAddr(),
			"users.a.base": "ou=peple,o=TEST", "users.a.search": "(uid={0})", "users.a.order": 1,
			"users.b.base": "ou=people,o=TEST", "users.b.search": "(uid={0})", "users.b.order": 2},
			key: "users.a.base", base: "ou=peple,o=TEST"},
		{name: "userbase, in the authorization backend", authz: true, key: "userbase", base: "ou=peple,o=TEST",
			config: merge(people, map[string]any{"userbase": "ou=peple,o=TEST", "rolebase": "ou=groups,o=TEST", "rolesearch": "(uniqueMember={0})"})},
		{name: "rolebase", authz: true, config: merge(people, map[string]any{"rolebase": "ou=grups,o=TEST", "rolesearch": "(uniqueMember={0})"}),
			key: "rolebase", base: "ou=grups,o=TEST"},
		{name: "roles.*.base", authz: true, config: merge(people, map[string]any{
			"roles.g.base": "ou=grups,o=TEST", "roles.g.search": "(uniqueMember={0})"}),
			key: "roles.g.base", base: "ou=grups,o=TEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.LogBuffer{}
			var call func(context.Context) error
			if tt.authz {
				a := newTestAuthorizer(t, tt.config, logs)
				call = func(ctx context.Context) error {
					g, err := a.Authorize(ctx, &sdk.User{Name: "jacksonm"})
					if err == nil {
						t.Errorf("Authorize: roles %v, want an error", g.BackendRoles)
					}
					return err
				}
			} else {
				b := newTestBackend(t, tt.config, logs)
				call = func(ctx context.Context) error {
					u, err := b.Authenticate(ctx, creds("jacksonm", "secret"))
					if err == nil {
						t.Errorf("Authenticate: %+v, want an error", u)
					}
					return err
				}
			}
			for range 2 {
				ctx, cancel := context.WithTimeout(context.Background(), generous)
				err := call(ctx)
				cancel()
				if errors.Is(err, sdk.ErrUnavailable) || !contains(fmt.Sprint(err), tt.key, tt.base, "does not exist") {
					t.Fatalf("got %v, want an error naming %s and %q that is not unavailable", err, tt.key, tt.base)
				}
			}
			if n := strings.Count(logs.String(), "ldap search base does not exist"); n != 1 ||
				!contains(logs.String(), "[WARN]", "key="+tt.key, `base="`+tt.base+`"`) {
				t.Fatalf("want one warning per realm naming %s and %q, got %d:\n%s", tt.key, tt.base, n, logs)
			}
		})
	}
}
