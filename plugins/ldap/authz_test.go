package ldap

import (
	"context"
	"slices"
	"testing"

	"github.com/realmd/realmd/sdk"
)

func TestAuthorize_RoleAlgorithm(t *testing.T) {
	s := startDirectory(t)
	// OpenSearch's LdapBackendTestNewStyleConfig setup.
	os := map[string]any{
		"hosts":           s.LDAPAddr(),
		"users.u1.base":   "ou=people,o=TEST",
		"users.u1.search": "(uid={0})",
		"roles.g1.base":   "ou=groups,o=TEST",
		"roles.g1.search": "(uniqueMember={0})",
		"rolename":        "cn",
	}
	nested := merge(os, map[string]any{"resolve_nested_roles": true})
	byAttr := merge(nested, map[string]any{"userrolename": "description"})
	// realmd's nested groups, through the memberOf overlay or a role search.
	memberOf := map[string]any{
		"hosts": s.LDAPAddr(), "usersearch": "(uid={0})", "rolename": "cn",
		"rolesearch_enabled": false, "resolve_nested_roles": true,
	}
	search := map[string]any{
		"hosts": s.LDAPAddr(), "usersearch": "(uid={0})", "rolename": "cn", "userrolename": "none",
		"rolebase": "ou=groups," + exampleSuffix, "rolesearch": "(member={0})", "resolve_nested_roles": true,
	}
	spock := sdk.User{Name: "spock"}
	// A user an LDAP authentication backend found (ldap.dn) whose entry this
	// directory does not hold; cn=2 lists the DN as a member.
	nobodyDN := "uid=nobody,ou=people," + exampleSuffix
	nobody := func(attrs ...string) sdk.User {
		u := sdk.User{Name: "nobody", LoginName: "nobody", Attributes: map[string]string{AttrDN: nobodyDN, AttrOriginalUsername: "nobody"}}
		for i := 0; i+1 < len(attrs); i += 2 {
			u.Attributes[attrs[i]] = attrs[i+1]
		}
		return u
	}
	cross := map[string]any{"hosts": s.LDAPAddr(), "rolebase": "ou=groups," + exampleSuffix, "rolesearch": "(member={0})", "rolename": "cn"}
	tests := []struct {
		name   string
		config map[string]any
		user   sdk.User
		want   []string
	}{
		{name: "role search", config: os, user: sdk.User{Name: "jacksonm"}, want: []string{"ceo", "role2"}},
		{name: "entry from the ldap.dn attribute", config: os,
			user: sdk.User{Name: jacksonDN, LoginName: "jacksonm", Attributes: map[string]string{AttrDN: jacksonDN}},
			want: []string{"ceo", "role2"}},
		{name: "user named by a DN", config: os, user: sdk.User{Name: jacksonDN}, want: []string{"ceo", "role2"}},
		{name: "unknown user has no roles", config: os, user: sdk.User{Name: "nobody"}, want: nil},
		{name: "user named by an unknown DN has no roles", config: os, user: sdk.User{Name: "cn=nobody,o=TEST"}, want: nil},
		{name: "user named by a DN under a missing entry has no roles", config: os, user: sdk.User{Name: "cn=nobody,ou=nothere,o=TEST"}, want: nil},
		{name: "a name the directory refuses as a DN has no roles (found by review)", config: os, user: sdk.User{Name: "foo=bar"}, want: nil},
		{name: "nested roles", config: nested, user: spock, want: []string{"ceo", "nested1", "nested2", "role2"}},
		{name: "nested_role_filter stops traversal", config: merge(nested, map[string]any{"nested_role_filter": []any{"cn=nested2,ou=groups,o=TEST"}}),
			user: spock, want: []string{"ceo", "nested2"}},
		{name: "rolename dn", config: merge(nested, map[string]any{"rolename": "dn"}), user: spock,
			want: []string{"cn=ceo,ou=groups,o=TEST", "cn=nested1,ou=groups,o=TEST", "cn=nested2,ou=groups,o=TEST", "cn=role2,ou=groups,o=TEST"}},
		{name: "rolename dn for an authenticated user", config: merge(os, map[string]any{"rolename": "dn"}),
			user: sdk.User{Name: "jacksonm", LoginName: "jacksonm", Attributes: map[string]string{AttrDN: jacksonDN}},
			want: []string{"cn=ceo,ou=groups,o=TEST", "cn=role2,ou=groups,o=TEST"}},
		{name: "role DNs from a user attribute, nested", config: byAttr, user: spock,
			want: []string{"ceo", "dummyempty", "nested1", "nested2", "nested3", "nested4", "role2", "rolemo4"}},
		{name: "nested_role_filter pattern", config: merge(byAttr, map[string]any{"nested_role_filter": "cn=rolemo4*"}), user: spock,
			want: []string{"ceo", "dummyempty", "nested1", "nested2", "role2", "rolemo4"}},
		{name: "nested_role_filter * is like no nesting", config: merge(byAttr, map[string]any{"nested_role_filter": "*"}), user: spock,
			want: []string{"ceo", "dummyempty", "nested2", "rolemo4"}},
		{name: "rolesearch disabled keeps attribute roles", config: merge(byAttr, map[string]any{
			"rolesearch_enabled": false, "roles.g1.base": "unused", "roles.g1.search": "(((unused"}),
			user: spock, want: []string{"dummyempty", "nested3", "rolemo4"}},
		{name: "non-DN values are role names", config: merge(nested, map[string]any{"userrolename": "description, ou"}),
			user: sdk.User{Name: "nondnroles"}, want: []string{"anotherrole", "dummyempty", "humanresources", "kibanauser", "role2"}},
		{name: "exclude_roles drops DN roles but not non-DN ones", config: merge(nested, map[string]any{
			"userrolename": "description, ou", "exclude_roles": []any{"dummy*", "kibana*"}}),
			user: sdk.User{Name: "nondnroles"}, want: []string{"anotherrole", "humanresources", "kibanauser", "role2"}},
		// OpenSearch's LdapBackendTest names this user with escapes and a
		// quoted value that go-ldap's ParseDN refuses (found by review).
		{name: "user named by a DN with an unneeded escape", config: merge(os, map[string]any{"rolename": "description"}),
			user: sdk.User{Name: `CN=AA BB\/CC (DD) my\, company end\=with\=whitespace\ ,ou=people,o=TEST`},
			want: []string{`ROLE/(186) consists of\, special=`}},
		{name: "user named by a DN with a quoted value", config: merge(os, map[string]any{"rolename": "description"}),
			user: sdk.User{Name: `CN="AA BB/CC (DD) my, company end=with=whitespace ",ou=people,o=TEST`},
			want: []string{`ROLE/(186) consists of\, special=`}},
		// Java's LdapName reads cn=a, as a DN with an empty RDN, which
		// names no entry (OpenSearch's lookup throws on it).
		{name: "user named by a DN with an empty RDN", config: os, user: sdk.User{Name: "cn=a,"}},
		// OpenSearch searches roles with the authentication backend's entry
		// and never reads it again; realmd skipped the role search when it
		// could not read the entry (found by review).
		{name: "ldap.dn this directory cannot read: role search with the DN", config: cross, user: nobody(), want: []string{"2"}},
		{name: "ldap.dn this directory cannot read: nested", config: merge(cross, map[string]any{"resolve_nested_roles": true}),
			user: nobody(), want: []string{"2"}},
		{name: "ldap.dn this directory cannot read: {2} from the backend's attribute", config: merge(cross, map[string]any{
			"rolesearch": "(cn={2})", "userroleattribute": "departmentNumber"}),
			user: nobody(AttrPrefix+"departmentNumber", "devs"), want: []string{"devs"}},
		{name: "ldap.dn this directory cannot read: {2} without the attribute is the literal 2", config: merge(cross, map[string]any{
			"rolesearch": "(cn={2})", "userroleattribute": "departmentNumber"}),
			user: nobody(), want: []string{"2"}},
		{name: "escaped DNs in nested groups", config: byAttr, user: sdk.User{Name: "ssign"},
			want: []string{"ceo", "dummyempty", "special2", "special2nest"}},
		{name: "skip_users matches the DN", config: merge(os, map[string]any{"skip_users": []any{"cn=Michael Jackson,ou*people,o=TEST"}}),
			user: sdk.User{Name: jacksonDN, LoginName: "jacksonm", Attributes: map[string]string{AttrDN: jacksonDN}}, want: nil},
		{name: "skip_users matches the login name", config: merge(os, map[string]any{"skip_users": "/jack.*/"}),
			user: sdk.User{Name: "jacksonm"}, want: nil},
		{name: "{1} is the login name", config: merge(os, map[string]any{
			"users.u1.search": "(cn={0})", "roles.g1.search": "(uniqueMember=cn={1},ou=people,o=TEST)"}),
			user: sdk.User{Name: jacksonDN, LoginName: "Michael Jackson", Attributes: map[string]string{AttrDN: jacksonDN}},
			want: []string{"ceo", "role2"}},
		{name: "two role bases", config: merge(os, map[string]any{"roles.g2.base": "ou=groups2,o=TEST", "roles.g2.search": "(uniqueMember={0})"}),
			user: sdk.User{Name: "jacksonm"}, want: []string{"ceo", "king", "role2"}},
		{name: "nested search stays in the base a role came from", config: merge(nested, map[string]any{
			"users.u1.base": "ou=people2,o=TEST", "roles.g2.base": "ou=groups2,o=TEST", "roles.g2.search": "(uniqueMember={0})"}),
			user: sdk.User{Name: "mercuryf"}, want: []string{"crossnested2"}},
		{name: "memberOf, not nested", config: merge(memberOf, map[string]any{"resolve_nested_roles": false}),
			user: sdk.User{Name: "alice"}, want: []string{"devs"}},
		{name: "memberOf, nested", config: memberOf, user: sdk.User{Name: "alice"}, want: []string{"all", "devs", "staff"}},
		{name: "memberOf cycle ends", config: memberOf, user: sdk.User{Name: "carol"}, want: []string{"cyc-a", "cyc-b", "cyc-c"}},
		{name: "role search, nested", config: search, user: sdk.User{Name: "alice"}, want: []string{"all", "devs", "staff"}},
		{name: "role search cycle ends", config: search, user: sdk.User{Name: "carol"}, want: []string{"cyc-a", "cyc-b", "cyc-c"}},
		{name: "max_nested_depth 1", config: merge(search, map[string]any{"max_nested_depth": 1}),
			user: sdk.User{Name: "alice"}, want: []string{"devs", "staff"}},
		{name: "user in no group", config: search, user: sdk.User{Name: "dave"}, want: nil},
		{name: "{2} is userroleattribute", config: merge(search, map[string]any{
			"rolesearch": "(cn={2})", "userroleattribute": "departmentNumber", "resolve_nested_roles": false}),
			user: sdk.User{Name: "dave"}, want: []string{"devs"}},
		{name: "{2} without the attribute is the literal 2", config: merge(search, map[string]any{
			"rolesearch": "(cn={2})", "userroleattribute": "departmentNumber", "resolve_nested_roles": false}),
			user: sdk.User{Name: "bob"}, want: []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newTestAuthorizer(t, tt.config, nil)
			g, err := a.Authorize(context.Background(), &tt.user)
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			if !slices.Equal(g.BackendRoles, tt.want) {
				t.Fatalf("roles\n got %q\nwant %q", g.BackendRoles, tt.want)
			}
			if g.CacheTTL != sdk.CacheForever {
				t.Fatalf("CacheTTL = %v", g.CacheTTL)
			}
		})
	}
}

func TestAuthorize_AfterAuthenticate(t *testing.T) {
	s := startDirectory(t)
	cfg := map[string]any{
		"hosts": s.LDAPAddr(), "usersearch": "(uid={0})", "username_attribute": "uid",
		"rolebase": "ou=groups,o=TEST", "rolesearch": "(uniqueMember={0})", "rolename": "cn",
	}
	b := newTestBackend(t, cfg, nil)
	a := newTestAuthorizer(t, cfg, nil)
	u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret"))
	if err != nil || u == nil {
		t.Fatalf("Authenticate: %v, %v", u, err)
	}
	g, err := a.Authorize(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ceo", "role2"}; !slices.Equal(g.BackendRoles, want) {
		t.Fatalf("roles %q, want %q", g.BackendRoles, want)
	}
}
