package ldap

import (
	"os"
	"testing"

	"github.com/realmd/realmd/sdk"
	"github.com/realmd/realmd/sdk/realmtest"
)

func TestMain(m *testing.M) {
	realmtest.ServeIfChild(Plugin())
	os.Exit(m.Run())
}

// TestConformance drives the plugin through the real go-plugin handshake
// against slapd.
func TestConformance(t *testing.T) {
	s := startDirectory(t)
	authc := map[string]any{
		"hosts":                  []any{s.LDAPAddr()},
		"users.people.base":      "ou=people,o=TEST",
		"users.people.search":    "(uid={0})",
		"custom_attr_maxval_len": 0,
		"pool.enabled":           true,
	}
	authz := merge(authc, map[string]any{
		"rolebase": "ou=groups,o=TEST", "rolesearch": "(uniqueMember={0})", "rolename": "cn", "resolve_nested_roles": true,
	})
	user := func(dn, login string) *sdk.User {
		return &sdk.User{Name: dn, LoginName: login, CacheTTL: sdk.CacheForever,
			Attributes: map[string]string{AttrOriginalUsername: login, AttrDN: dn}}
	}
	realmtest.Run(t, realmtest.Suite{
		Backends: []realmtest.Backend{{
			Type:        "ldap",
			Config:      authc,
			Invalid:     merge(authc, map[string]any{"userbase": "o=TEST"}),
			InvalidKeys: []string{"userbase"},
			Cases: []realmtest.AuthenticateCase{
				{Name: "jacksonm", Credentials: *creds("jacksonm", "secret"), Want: user(jacksonDN, "jacksonm")},
				{Name: "spock", Credentials: *creds("spock", "spocksecret"), Want: user("cn=Captain Spock,ou=people,o=TEST", "spock")},
				{Name: "wrong password", Credentials: *creds("jacksonm", "spocksecret")},
				{Name: "unknown user", Credentials: *creds("nobody", "secret")},
			},
		}},
		Authorizers: []realmtest.Authorizer{{
			Type:        "ldap",
			Config:      authz,
			Invalid:     merge(authz, map[string]any{"rolesearch": "((("}),
			InvalidKeys: []string{"rolesearch"},
			Cases: []realmtest.AuthorizeCase{
				{Name: "spock, nested", User: sdk.User{Name: "spock"},
					Want: sdk.Grant{BackendRoles: []string{"ceo", "nested1", "nested2", "role2"}, CacheTTL: sdk.CacheForever}},
				{Name: "jacksonm from the ldap backend", User: *user(jacksonDN, "jacksonm"),
					Want: sdk.Grant{BackendRoles: []string{"ceo", "role2"}, CacheTTL: sdk.CacheForever}},
				{Name: "unknown user", User: sdk.User{Name: "nobody"}, Want: sdk.Grant{CacheTTL: sdk.CacheForever}},
			},
		}},
	})
}
