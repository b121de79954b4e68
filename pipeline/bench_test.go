package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// BenchmarkAuthenticate measures the pipeline's own overhead: the plugins
// are in-process fakes that answer at once, so the numbers are the stages,
// the cache, the flight and the role mapping, not a plugin hop.
func BenchmarkAuthenticate(b *testing.B) {
	mapper, err := NewRoleMapper(MapperConfig{Mappings: []Mapping{
		{Role: "all_access", BackendRoles: []string{"admins"}},
		{Role: "readall", BackendRoles: []string{"staff", "ldap-*"}},
		{Role: "lan", Hosts: []string{"10.0.*"}},
		{Role: "re", Users: []string{"/user-[0-9]+/"}},
	}})
	if err != nil {
		b.Fatal(err)
	}
	anyone := func() Verifier {
		return &fakeVerifierFunc{fn: func(c *sdk.Credentials) *sdk.User {
			return &sdk.User{Name: c.Username, BackendRoles: []string{"staff"}, CacheTTL: sdk.CacheForever}
		}}
	}
	authz := []AuthzDomain{{Name: "ldap", Backend: &fakeGranter{grant: &sdk.Grant{BackendRoles: []string{"admins"}, CacheTTL: sdk.CacheForever}}}}
	tests := []struct {
		name     string
		domains  func() []Domain
		authz    []AuthzDomain
		cacheTTL time.Duration
		users    int // distinct credentials, rotated
		req      func(i int) *sdk.Request
	}{
		{name: "cached", domains: func() []Domain { return []Domain{basicDomain("basic", true, anyone())} },
			authz: authz, cacheTTL: time.Hour, users: 1},
		{name: "cached-1000-users", domains: func() []Domain { return []Domain{basicDomain("basic", true, anyone())} },
			authz: authz, cacheTTL: time.Hour, users: 1000},
		{name: "uncached", domains: func() []Domain { return []Domain{basicDomain("basic", true, anyone())} },
			authz: authz, users: 1},
		{name: "uncached-no-authz", domains: func() []Domain { return []Domain{basicDomain("basic", true, anyone())} },
			users: 1},
		{name: "uncached-third-domain", domains: func() []Domain {
			return []Domain{proxyDomain("proxy", false, nil), bearerDomain("jwt", false), basicDomain("basic", true, anyone())}
		}, authz: authz, users: 1},
		{name: "challenge", domains: func() []Domain { return []Domain{basicDomain("basic", true, anyone())} },
			cacheTTL: time.Hour, req: func(int) *sdk.Request { return request() }},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			reqs := make([]*sdk.Request, max(tt.users, 1))
			for i := range reqs {
				if tt.req != nil {
					reqs[i] = tt.req(i)
				} else {
					reqs[i] = request(fmt.Sprintf("Authorization: Basic user-%d:pw", i), "X-Request-Id: abc")
				}
			}
			p := New(Config{Domains: tt.domains(), Authz: tt.authz, Mapper: mapper, CacheTTL: tt.cacheTTL})
			defer p.Close()
			for _, r := range reqs { // warm the cache where there is one
				p.Authenticate(context.Background(), r, caller)
			}
			var n atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					r := reqs[int(n.Add(1))%len(reqs)]
					if got := p.Authenticate(ctx, r, caller); got.Outcome == Overloaded || got.Outcome == Unavailable {
						b.Errorf("outcome %v", got.Outcome)
						return
					}
				}
			})
		})
	}
}
