package pipeline

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

func TestAuthz_RunsInParallel(t *testing.T) {
	// Each authorizer waits for the other to start: run one after the other,
	// the first would give up at the guard and the grant would be missing.
	startedA, startedB := make(chan struct{}), make(chan struct{})
	meet := func(mine, other chan struct{}) func(context.Context, *sdk.User) error {
		return func(ctx context.Context, _ *sdk.User) error {
			close(mine)
			select {
			case <-other:
				return nil
			case <-time.After(guard):
				return errors.New("the other authorizer never started")
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	a := &fakeGranter{grant: &sdk.Grant{BackendRoles: []string{"a"}}, before: meet(startedA, startedB)}
	b := &fakeGranter{grant: &sdk.Grant{BackendRoles: []string{"b"}}, before: meet(startedB, startedA)}
	p := start(t, Config{
		Domains: []Domain{basicDomain("basic", true, users())},
		Authz:   []AuthzDomain{{Name: "a", Backend: a}, {Name: "b", Backend: b}},
	})
	got := ask(t, p, request("Authorization: Basic alice:secret"))
	if got.Outcome != Authenticated {
		t.Fatalf("outcome = %v", got.Outcome)
	}
	if want := []string{"admins", "a", "b"}; !slices.Equal(got.Identity.User.BackendRoles, want) {
		t.Errorf("backend roles = %q, want %q", got.Identity.User.BackendRoles, want)
	}
}

func TestAuthz_MergesInDeclaredOrder(t *testing.T) {
	// b answers before a starts; the merge must still follow the config.
	bDone := make(chan struct{})
	a := &fakeGranter{
		grant: &sdk.Grant{BackendRoles: []string{"a1", "shared"}, SecurityRoles: []string{"sa"},
			Attributes: map[string]string{"attr.a": "1", "attr.both": "from a"}},
		before: func(ctx context.Context, _ *sdk.User) error {
			select {
			case <-bDone:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	b := &fakeGranter{
		grant: &sdk.Grant{BackendRoles: []string{"b1", "shared", "a1", "admins"}, SecurityRoles: []string{"sb", "sa"},
			Attributes: map[string]string{"attr.b": "2", "attr.both": "from b"}},
		before: func(context.Context, *sdk.User) error { close(bDone); return nil },
	}
	p := start(t, Config{
		Domains: []Domain{basicDomain("basic", true, users())},
		Authz:   []AuthzDomain{{Name: "a", Backend: a}, {Name: "b", Backend: b}},
	})
	got := ask(t, p, request("Authorization: Basic alice:secret"))
	if got.Outcome != Authenticated {
		t.Fatalf("outcome = %v", got.Outcome)
	}
	u := got.Identity.User
	if want := []string{"admins", "a1", "shared", "b1"}; !slices.Equal(u.BackendRoles, want) {
		t.Errorf("backend roles = %q, want %q", u.BackendRoles, want)
	}
	if want := []string{"sa", "sb"}; !slices.Equal(u.SecurityRoles, want) {
		t.Errorf("security roles = %q, want %q", u.SecurityRoles, want)
	}
	want := map[string]string{"attr.a": "1", "attr.b": "2", "attr.both": "from b"}
	if !maps.Equal(u.Attributes, want) {
		t.Errorf("attributes = %v, want %v (later authz domains win)", u.Attributes, want)
	}
}

func TestAuthz_SeesTheAuthenticatedUser(t *testing.T) {
	var seen sdk.User
	g := &fakeGranter{grant: &sdk.Grant{}, before: func(_ context.Context, u *sdk.User) error { seen = *u; return nil }}
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, users())}, Authz: []AuthzDomain{{Name: "g", Backend: g}}})
	if got := ask(t, p, request("Authorization: Basic bob:hunter2")); got.Outcome != Authenticated {
		t.Fatalf("outcome = %v", got.Outcome)
	}
	if seen.Name != "bob" || !slices.Equal(seen.BackendRoles, []string{"staff"}) || seen.LoginName != "bob" {
		t.Errorf("authorizer saw %+v, want bob with backend role staff", seen)
	}
}

func TestAuthz_FailuresAreSkipped(t *testing.T) {
	tests := []struct {
		name      string
		authz     func() []*fakeGranter
		wantRoles []string
		// wantCached: a second identical request is a cache hit.
		wantCached bool
	}{
		{
			name: "an erroring authorizer is skipped and the answer is not cached",
			authz: func() []*fakeGranter {
				return []*fakeGranter{
					{err: errDirectoryDown},
					{grant: &sdk.Grant{BackendRoles: []string{"ok"}, CacheTTL: sdk.CacheForever}},
				}
			},
			wantRoles:  []string{"admins", "ok"},
			wantCached: false,
		},
		{
			name: "an authorizer failing for any reason is skipped and the answer is not cached",
			authz: func() []*fakeGranter {
				return []*fakeGranter{
					{grant: &sdk.Grant{BackendRoles: []string{"ok"}, CacheTTL: sdk.CacheForever}},
					{err: sdk.ErrInternal},
				}
			},
			wantRoles:  []string{"admins", "ok"},
			wantCached: false,
		},
		{
			name: "every authorizer answering makes the answer cacheable",
			authz: func() []*fakeGranter {
				return []*fakeGranter{
					{grant: &sdk.Grant{BackendRoles: []string{"x"}, CacheTTL: sdk.CacheForever}},
					{grant: &sdk.Grant{BackendRoles: []string{"y"}, CacheTTL: time.Hour}},
				}
			},
			wantRoles:  []string{"admins", "x", "y"},
			wantCached: true,
		},
		{
			name: "an authorizer that returns no grant adds nothing and, like an empty grant, is not cached",
			authz: func() []*fakeGranter {
				return []*fakeGranter{
					{grant: nil},
					{grant: &sdk.Grant{BackendRoles: []string{"y"}, CacheTTL: time.Hour}},
				}
			},
			wantRoles:  []string{"admins", "y"},
			wantCached: false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			granters := tt.authz()
			var authz []AuthzDomain
			for i, g := range granters {
				authz = append(authz, AuthzDomain{Name: string(rune('a' + i)), Backend: g})
			}
			backend := users()
			p := start(t, Config{Domains: []Domain{basicDomain("basic", true, backend)}, Authz: authz, CacheTTL: time.Hour})
			var got Result
			for range 2 {
				got = ask(t, p, request("Authorization: Basic alice:secret"))
				if got.Outcome != Authenticated {
					t.Fatalf("outcome = %v, want authenticated despite the authorizer", got.Outcome)
				}
				if !slices.Equal(got.Identity.User.BackendRoles, tt.wantRoles) {
					t.Errorf("backend roles = %q, want %q", got.Identity.User.BackendRoles, tt.wantRoles)
				}
			}
			if got.Cached != tt.wantCached {
				t.Errorf("second answer cached = %v, want %v", got.Cached, tt.wantCached)
			}
			wantCalls := int32(2)
			if tt.wantCached {
				wantCalls = 1
			}
			if n := backend.calls.Load(); n != wantCalls {
				t.Errorf("backend calls = %d, want %d", n, wantCalls)
			}
			for i, g := range granters {
				if n := g.calls.Load(); n != wantCalls {
					t.Errorf("authorizer %d calls = %d, want %d", i, n, wantCalls)
				}
			}
		})
	}
}

func TestPipeline_BackendRolesAreASet(t *testing.T) {
	// OpenSearch's User keeps backend roles in a set: a role named twice,
	// by one realm or by two, is one role. The first occurrence keeps its
	// place, so the order stays stable.
	tests := []struct {
		name   string
		domain func() Domain
		authz  []*sdk.Grant
		req    *sdk.Request
		want   []string
		wantSR []string
		// wantMapped: resolution BOTH adds the backend roles to the
		// mapped ones, and the mapping names "admin" once more.
		wantMapped []string
	}{
		{
			name:       "a token naming a role twice, with no authorization backend",
			domain:     func() Domain { return bearerDomain("jwt", true) },
			req:        request("Authorization: Bearer carol;admin,ops,admin"),
			want:       []string{"admin", "ops"},
			wantMapped: []string{"admin", "ops"},
		},
		{
			name: "a backend answering a role twice",
			domain: func() Domain {
				v := users()
				v.roles["alice"] = []string{"admins", "staff", "admins", "staff"}
				return basicDomain("basic", true, v)
			},
			req:        request("Authorization: Basic alice:secret"),
			want:       []string{"admins", "staff"},
			wantMapped: []string{"admins", "staff"},
		},
		{
			name:   "an authenticator's duplicate and an authorizer's repeat of it",
			domain: func() Domain { return bearerDomain("jwt", true) },
			authz: []*sdk.Grant{
				{BackendRoles: []string{"ops", "dev", "dev"}, SecurityRoles: []string{"s1", "s1"}, CacheTTL: sdk.CacheForever},
				{BackendRoles: []string{"admin", "qa"}, SecurityRoles: []string{"s2", "s1"}, CacheTTL: sdk.CacheForever},
			},
			req:        request("Authorization: Bearer carol;admin,ops,admin"),
			want:       []string{"admin", "ops", "dev", "qa"},
			wantSR:     []string{"s1", "s2"},
			wantMapped: []string{"admin", "dev", "ops", "qa", "s1", "s2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mapper, err := NewRoleMapper(MapperConfig{Mode: Both, Mappings: []Mapping{{Role: "admin", BackendRoles: []string{"admin"}}}})
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Domains: []Domain{tt.domain()}, Mapper: mapper, CacheTTL: time.Hour}
			for i, g := range tt.authz {
				cfg.Authz = append(cfg.Authz, AuthzDomain{Name: string(rune('a' + i)), Backend: &fakeGranter{grant: g}})
			}
			p := start(t, cfg)
			for i, wantCached := range []bool{false, true} {
				got := ask(t, p, tt.req)
				if got.Outcome != Authenticated || got.Cached != wantCached {
					t.Fatalf("request %d: outcome %v cached %v, want authenticated, cached %v", i, got.Outcome, got.Cached, wantCached)
				}
				u := got.Identity.User
				if !slices.Equal(u.BackendRoles, tt.want) {
					t.Errorf("request %d: backend roles = %q, want %q", i, u.BackendRoles, tt.want)
				}
				if !slices.Equal(u.SecurityRoles, tt.wantSR) {
					t.Errorf("request %d: security roles = %q, want %q", i, u.SecurityRoles, tt.wantSR)
				}
				if !slices.Equal(got.Identity.Roles, tt.wantMapped) {
					t.Errorf("request %d: mapped roles = %q, want %q", i, got.Identity.Roles, tt.wantMapped)
				}
			}
		})
	}
}
