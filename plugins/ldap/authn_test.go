package ldap

import (
	"context"
	"errors"
	"maps"
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
