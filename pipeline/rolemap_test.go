package pipeline

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/realmd/realmd/sdk"
)

func TestRoleMapper_Map(t *testing.T) {
	alice := sdk.User{Name: "alice", BackendRoles: []string{"ldap-admins", "staff"}, SecurityRoles: []string{"own_role"}}
	office := Caller{IP: "192.168.1.20", Host: "ws20.office.example"}
	tests := []struct {
		name   string
		cfg    MapperConfig
		user   sdk.User
		caller Caller
		want   []string
	}{
		{
			name: "users: exact name",
			cfg:  MapperConfig{Mappings: []Mapping{{Role: "r", Users: []string{"alice"}}, {Role: "no", Users: []string{"bob"}}}},
			user: alice, want: []string{"own_role", "r"},
		},
		{
			name: "users: matching is case-sensitive",
			cfg:  MapperConfig{Mappings: []Mapping{{Role: "r", Users: []string{"Alice"}}}},
			user: alice, want: []string{"own_role"},
		},
		{
			name: "users: glob with * and ?",
			cfg: MapperConfig{Mappings: []Mapping{
				{Role: "star", Users: []string{"al*"}}, {Role: "qmark", Users: []string{"?lice"}},
				{Role: "no", Users: []string{"?ice"}}, {Role: "mid", Users: []string{"a*e"}},
			}},
			user: alice, want: []string{"mid", "own_role", "qmark", "star"},
		},
		{
			name: "users: /regex/ must match the whole name",
			cfg: MapperConfig{Mappings: []Mapping{
				{Role: "full", Users: []string{"/a.i.e/"}}, {Role: "partial", Users: []string{"/lic/"}},
			}},
			user: alice, want: []string{"full", "own_role"},
		},
		{
			name: "users: * matches everybody",
			cfg:  MapperConfig{Mappings: []Mapping{{Role: "all", Users: []string{"*"}}}},
			user: sdk.User{Name: "anyone"}, want: []string{"all"},
		},
		{
			name: "backend_roles: any backend role matching grants the role",
			cfg: MapperConfig{Mappings: []Mapping{
				{Role: "admin", BackendRoles: []string{"nobody", "ldap-*"}}, {Role: "no", BackendRoles: []string{"ops"}},
			}},
			user: alice, want: []string{"admin", "own_role"},
		},
		{
			name: "and_backend_roles: every pattern matches some backend role",
			cfg:  MapperConfig{Mappings: []Mapping{{Role: "both", AndBackendRoles: []string{"staff", "/ldap-.*/"}}}},
			user: alice, want: []string{"both", "own_role"},
		},
		{
			name: "and_backend_roles: one pattern without a match denies the role",
			cfg:  MapperConfig{Mappings: []Mapping{{Role: "both", AndBackendRoles: []string{"staff", "ops"}}}},
			user: alice, want: []string{"own_role"},
		},
		{
			name: "criteria are or-ed across the lists",
			cfg: MapperConfig{Mappings: []Mapping{{Role: "r", Users: []string{"bob"}, BackendRoles: []string{"nope"},
				AndBackendRoles: []string{"staff", "ops"}, Hosts: []string{"192.168.1.*"}}}},
			user: alice, caller: office, want: []string{"own_role", "r"},
		},
		{
			name: "hosts: matched against the caller IP",
			cfg: MapperConfig{Mappings: []Mapping{
				{Role: "lan", Hosts: []string{"192.168.1.*"}}, {Role: "exact", Hosts: []string{"192.168.1.20"}},
				{Role: "re", Hosts: []string{`/192\.168\.1\.\d+/`}}, {Role: "wan", Hosts: []string{"10.*"}},
			}},
			user: sdk.User{Name: "x"}, caller: office, want: []string{"exact", "lan", "re"},
		},
		{
			name:   "hosts: ip-only ignores the host name",
			cfg:    MapperConfig{HostsMode: IPOnly, Mappings: []Mapping{{Role: "ws", Hosts: []string{"*.office.example"}}}},
			user:   sdk.User{Name: "x"},
			caller: office, want: []string{},
		},
		{
			name:   "hosts: ip-hostname also matches the host name",
			cfg:    MapperConfig{HostsMode: IPHostname, Mappings: []Mapping{{Role: "ws", Hosts: []string{"*.office.example"}}}},
			user:   sdk.User{Name: "x"},
			caller: office, want: []string{"ws"},
		},
		{
			name: "hosts: ip-hostname-lookup also matches reverse DNS, without the trailing dot",
			cfg: MapperConfig{HostsMode: IPHostnameLookup, Mappings: []Mapping{{Role: "dns", Hosts: []string{"ptr.example.net"}}},
				LookupAddr: func(_ context.Context, ip string) ([]string, error) {
					if ip != "192.168.1.20" {
						return nil, errors.New("no PTR")
					}
					return []string{"ptr.example.net."}, nil
				}},
			user: sdk.User{Name: "x"}, caller: office, want: []string{"dns"},
		},
		{
			name: "hosts: an IPv6 caller is matched in Java's form and in Go's",
			cfg: MapperConfig{Mappings: []Mapping{
				{Role: "java", Hosts: []string{"2001:db8:0:0:0:0:0:7"}}, {Role: "go", Hosts: []string{"2001:db8::7"}},
				{Role: "java-glob", Hosts: []string{"2001:db8:0:0:*"}}, {Role: "other", Hosts: []string{"2001:db8:0:0:0:0:0:8"}},
			}},
			user: sdk.User{Name: "x"}, caller: Caller{IP: "2001:db8::7"}, want: []string{"go", "java", "java-glob"},
		},
		{
			name: "hosts: ip-hostname does not do reverse DNS",
			cfg: MapperConfig{HostsMode: IPHostname, Mappings: []Mapping{{Role: "dns", Hosts: []string{"ptr.example.net"}}},
				LookupAddr: func(context.Context, string) ([]string, error) { return []string{"ptr.example.net."}, nil }},
			user: sdk.User{Name: "x"}, caller: office, want: []string{},
		},
		{
			name: "MAPPING_ONLY: backend roles are not roles",
			cfg:  MapperConfig{Mode: MappingOnly},
			user: alice, want: []string{"own_role"},
		},
		{
			name: "BACKENDROLES_ONLY: backend roles are roles and mappings are ignored",
			cfg:  MapperConfig{Mode: BackendRolesOnly, Mappings: []Mapping{{Role: "r", Users: []string{"alice"}}}},
			user: alice, want: []string{"ldap-admins", "own_role", "staff"},
		},
		{
			name: "BOTH: backend roles and mappings",
			cfg:  MapperConfig{Mode: Both, Mappings: []Mapping{{Role: "r", Users: []string{"alice"}}}},
			user: alice, want: []string{"ldap-admins", "own_role", "r", "staff"},
		},
		{
			name: "the mode is upper-cased, as OpenSearch does",
			cfg:  MapperConfig{Mode: "both", Mappings: []Mapping{{Role: "r", Users: []string{"alice"}}}},
			user: alice, want: []string{"ldap-admins", "own_role", "r", "staff"},
		},
		{
			name: "an unknown mode falls back to MAPPING_ONLY, as OpenSearch does",
			cfg:  MapperConfig{Mode: "SOMETIMES", Mappings: []Mapping{{Role: "r", Users: []string{"alice"}}}},
			user: alice, want: []string{"own_role", "r"},
		},
		{
			name: "the user's own security roles are kept when no roles are known",
			cfg:  MapperConfig{},
			user: sdk.User{Name: "x", SecurityRoles: []string{"a", "b"}}, want: []string{"a", "b"},
		},
		{
			name: "the user's own security roles are filtered by the known roles",
			cfg:  MapperConfig{KnownRoles: map[string]bool{"a": true}},
			user: sdk.User{Name: "x", SecurityRoles: []string{"a", "b"}}, want: []string{"a"},
		},
		{
			name: "the user's own security roles never include hidden roles",
			cfg:  MapperConfig{HiddenRoles: map[string]bool{"b": true}},
			user: sdk.User{Name: "x", SecurityRoles: []string{"a", "b"}}, want: []string{"a"},
		},
		{
			name: "the result is sorted and has no duplicates",
			cfg: MapperConfig{Mode: Both, Mappings: []Mapping{
				{Role: "zeta", Users: []string{"alice"}}, {Role: "staff", BackendRoles: []string{"staff"}}, {Role: "alpha", Users: []string{"*"}},
			}},
			user: alice, want: []string{"alpha", "ldap-admins", "own_role", "staff", "zeta"},
		},
		{
			name: "a blank pattern never matches",
			cfg:  MapperConfig{Mappings: []Mapping{{Role: "r", Users: []string{"", " "}, BackendRoles: []string{""}}}},
			user: sdk.User{Name: "", BackendRoles: []string{""}}, want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := NewRoleMapper(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			u := tt.user
			got := m.Map(context.Background(), &u, tt.caller)
			if !slices.Equal(got, tt.want) {
				t.Errorf("roles = %q, want %q", got, tt.want)
			}
		})
	}
}

// JavaHostAddress writes what Java's InetAddress.getHostAddress writes.
func TestJavaHostAddress(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"loopback", "::1", "0:0:0:0:0:0:0:1"},
		{"unspecified", "::", "0:0:0:0:0:0:0:0"},
		{"no leading zeros, lowercase", "2001:DB8:00ab::0A", "2001:db8:ab:0:0:0:0:a"},
		{"full groups", "fe80:1234:5678:9abc:def0:1:ffff:8000", "fe80:1234:5678:9abc:def0:1:ffff:8000"},
		{"zone kept", "fe80::1%eth0", "fe80:0:0:0:0:0:0:1%eth0"},
		{"IPv4-mapped is IPv4", "::ffff:192.0.2.7", "192.0.2.7"},
		{"IPv4-compatible stays IPv6", "::192.0.2.7", "0:0:0:0:0:0:c000:207"},
		{"IPv4", "192.0.2.7", "192.0.2.7"},
		{"not an address", "host.example:80", "host.example:80"},
		{"empty", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := JavaHostAddress(tt.in); got != tt.want {
				t.Errorf("JavaHostAddress(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNewRoleMapper_NamesEveryBadPattern(t *testing.T) {
	_, err := NewRoleMapper(MapperConfig{Mappings: []Mapping{
		{Role: "good", Users: []string{"/ok/"}},
		{Role: "r1", Users: []string{"/(/"}},
		{Role: "r2", Hosts: []string{"/"}},
	}})
	if err == nil {
		t.Fatal("no error for two bad patterns")
	}
	for _, want := range []string{"r1.users", "r2.hosts"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "good") {
		t.Errorf("error %q names the good mapping", err)
	}
}

func TestPipeline_RoleMappingUsesTheCaller(t *testing.T) {
	mapper, err := NewRoleMapper(MapperConfig{Mappings: []Mapping{
		{Role: "admin", BackendRoles: []string{"admins"}},
		{Role: "lan", Hosts: []string{"192.168.*"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, users())}, Mapper: mapper})
	tests := []struct {
		name   string
		caller Caller
		want   []string
	}{
		{name: "caller on the LAN gets the hosts role", caller: Caller{IP: "192.168.0.7"}, want: []string{"admin", "lan"}},
		{name: "caller elsewhere does not", caller: Caller{IP: "10.1.1.1"}, want: []string{"admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := p.Authenticate(context.Background(), request("Authorization: Basic alice:secret"), tt.caller)
			if got.Outcome != Authenticated {
				t.Fatalf("outcome = %v", got.Outcome)
			}
			if !slices.Equal(got.Identity.Roles, tt.want) {
				t.Errorf("roles = %q, want %q", got.Identity.Roles, tt.want)
			}
		})
	}
}

// ctxKey marks the context a test passes to Map.
type ctxKey struct{}

// In ip-hostname-lookup mode, LookupAddr gets the request's context as it
// is: bounding a lookup is LookupAddr's job (core's DNS cache runs each
// lookup for at most 2 s and answers cached ones at once), so the mapper
// arms no timer of its own on every request (found by review: a 2 s
// context.WithTimeout per request, under core's own bound).
func TestRoleMapper_LookupAddrGetsTheRequestsContext(t *testing.T) {
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")
	var got context.Context
	m, err := NewRoleMapper(MapperConfig{HostsMode: IPHostnameLookup, Mappings: []Mapping{{Role: "dns", Hosts: []string{"ptr.example.net"}}},
		LookupAddr: func(ctx context.Context, ip string) ([]string, error) {
			got = ctx
			return []string{"ptr.example.net."}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if roles := m.Map(ctx, &sdk.User{Name: "x"}, Caller{IP: "192.168.1.20"}); !slices.Equal(roles, []string{"dns"}) {
		t.Errorf("roles %q, want [dns]", roles)
	}
	if got != ctx {
		_, deadline := got.Deadline()
		t.Errorf("LookupAddr got another context than the request's (deadline set: %v), want the request's as it is", deadline)
	}
}
