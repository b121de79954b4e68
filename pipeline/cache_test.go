package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// fakeClock is a clock that moves only when the test advances it.
type fakeClock struct{ t atomic.Int64 }

// clockAt is a fakeClock that reads t.
func clockAt(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.t.Store(t.UnixNano())
	return c
}

// newClock replaces the cache's clock.
func newClock(p *Pipeline) *fakeClock {
	c := clockAt(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	p.cache.now = c.now
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.t.Add(int64(d)) }

func TestCache_HitSkipsEveryPlugin(t *testing.T) {
	backend := users()
	authz := &fakeGranter{grant: &sdk.Grant{BackendRoles: []string{"g"}, CacheTTL: sdk.CacheForever}}
	domains := []Domain{basicDomain("basic", true, backend)}
	p := start(t, Config{Domains: domains, Authz: []AuthzDomain{{Name: "g", Backend: authz}}, CacheTTL: time.Hour})
	first := ask(t, p, request("Authorization: Basic alice:secret"))
	second := ask(t, p, request("Authorization: Basic alice:secret"))
	if first.Outcome != Authenticated || second.Outcome != Authenticated {
		t.Fatalf("outcomes %v, %v", first.Outcome, second.Outcome)
	}
	if first.Cached || !second.Cached {
		t.Errorf("cached = %v, %v, want false, true", first.Cached, second.Cached)
	}
	if n, b, a := extractCalls(domains[0]), backend.calls.Load(), authz.calls.Load(); n != 1 || b != 1 || a != 1 {
		t.Errorf("calls: extract %d, backend %d, authz %d; want 1 each", n, b, a)
	}
	if !slices.Equal(second.Identity.User.BackendRoles, []string{"admins", "g"}) || second.Identity.Domain != "basic" || second.Identity.Authenticator != "basic" {
		t.Errorf("cached identity = %+v, want alice with roles admins, g from domain basic", second.Identity)
	}
}

func TestCache_RoleMappingIsRecomputedOnAHit(t *testing.T) {
	mapper, err := NewRoleMapper(MapperConfig{Mappings: []Mapping{{Role: "lan", Hosts: []string{"192.168.*"}}}})
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, users())}, Mapper: mapper, CacheTTL: time.Hour})
	ctx := t.Context()
	r := request("Authorization: Basic alice:secret")
	lan := p.Authenticate(ctx, r, Caller{IP: "192.168.1.1"})
	wan := p.Authenticate(ctx, r, Caller{IP: "203.0.113.5"})
	lanAgain := p.Authenticate(ctx, r, Caller{IP: "192.168.1.2"})
	if !wan.Cached || !lanAgain.Cached {
		t.Fatalf("later answers not cached: %v, %v", wan.Cached, lanAgain.Cached)
	}
	if !slices.Equal(lan.Identity.Roles, []string{"lan"}) || len(wan.Identity.Roles) != 0 || !slices.Equal(lanAgain.Identity.Roles, []string{"lan"}) {
		t.Errorf("roles = %q, %q, %q; want [lan], [], [lan]", lan.Identity.Roles, wan.Identity.Roles, lanAgain.Identity.Roles)
	}
}

func TestCache_TTL(t *testing.T) {
	const forever = sdk.CacheForever
	tests := []struct {
		name                    string
		noop                    bool // bearer domain without backend
		credTTL, userTTL, grant time.Duration
		withAuthz               bool
		cap                     time.Duration
		wantTTL                 time.Duration // 0: never cached
	}{
		{name: "the smallest of credential, user and grant TTL", credTTL: 10 * time.Minute, userTTL: 5 * time.Minute, grant: 3 * time.Minute, withAuthz: true, cap: time.Hour, wantTTL: 3 * time.Minute},
		{name: "the user TTL when it is the smallest", credTTL: forever, userTTL: 2 * time.Minute, grant: forever, withAuthz: true, cap: time.Hour, wantTTL: 2 * time.Minute},
		{name: "the credential TTL with the noop backend", noop: true, credTTL: 7 * time.Minute, cap: time.Hour, wantTTL: 7 * time.Minute},
		{name: "forever is capped by the configured TTL", credTTL: forever, userTTL: forever, grant: forever, withAuthz: true, cap: time.Hour, wantTTL: time.Hour},
		{name: "a TTL above the cap is capped", noop: true, credTTL: 3 * time.Hour, cap: time.Hour, wantTTL: time.Hour},
		{name: "a zero credential TTL is never cached", credTTL: 0, userTTL: forever, cap: time.Hour},
		{name: "a zero user TTL is never cached", credTTL: forever, userTTL: 0, cap: time.Hour},
		{name: "a zero grant TTL is never cached", credTTL: forever, userTTL: forever, grant: 0, withAuthz: true, cap: time.Hour},
		{name: "a zero configured TTL disables the cache", credTTL: forever, userTTL: forever, cap: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Domain
			var r *sdk.Request
			var calls func() int
			if tt.noop {
				d = bearerDomain("jwt", true)
				d.Authenticator = bearerExtractor(tt.credTTL)
				r = request("Authorization: Bearer carol")
				calls = func() int { return extractCalls(d) }
			} else {
				v := users()
				v.ttl = tt.userTTL
				d = basicDomain("basic", true, v)
				d.Authenticator = basicExtractor(tt.credTTL)
				r = request("Authorization: Basic alice:secret")
				calls = func() int { return int(v.calls.Load()) }
			}
			cfg := Config{Domains: []Domain{d}, CacheTTL: tt.cap}
			if tt.withAuthz {
				cfg.Authz = []AuthzDomain{{Name: "g", Backend: &fakeGranter{grant: &sdk.Grant{CacheTTL: tt.grant}}}}
			}
			p := start(t, cfg)
			clock := newClock(p)
			if got := ask(t, p, r); got.Outcome != Authenticated {
				t.Fatalf("outcome = %v", got.Outcome)
			}
			if tt.wantTTL == 0 {
				if got := ask(t, p, r); got.Cached || p.CacheLen() != 0 || calls() != 2 {
					t.Errorf("cached %v, %d entries, %d backend calls; want no caching", got.Cached, p.CacheLen(), calls())
				}
				return
			}
			clock.advance(tt.wantTTL - time.Nanosecond)
			if got := ask(t, p, r); !got.Cached {
				t.Errorf("not cached just before the TTL of %v ends", tt.wantTTL)
			}
			clock.advance(time.Nanosecond)
			if got := ask(t, p, r); got.Cached {
				t.Errorf("still cached when the TTL of %v ends", tt.wantTTL)
			}
			if n := calls(); n != 2 {
				t.Errorf("backend calls = %d, want 2 (first and after expiry)", n)
			}
		})
	}
}

func TestCache_Keys(t *testing.T) {
	tests := []struct {
		name       string
		anonymous  bool
		first      *sdk.Request
		second     *sdk.Request
		wantCached bool
		wantLen    int
	}{
		{
			name:       "the same credential is one entry",
			first:      request("Authorization: Basic alice:secret"),
			second:     request("Authorization: Basic alice:secret"),
			wantCached: true, wantLen: 1,
		},
		{
			name:       "headers no authenticator declared are not part of the key",
			first:      request("Authorization: Basic alice:secret", "X-Request-Id: 1", "Cookie: a=b"),
			second:     request("Authorization: Basic alice:secret", "X-Request-Id: 2"),
			wantCached: true, wantLen: 1,
		},
		{
			name:       "query parameters no authenticator declared are not part of the key",
			first:      request("Authorization: Basic alice:secret", "?page=1"),
			second:     request("Authorization: Basic alice:secret", "?page=2"),
			wantCached: true, wantLen: 1,
		},
		{
			name:       "different passwords are different entries",
			first:      request("Authorization: Basic alice:secret"),
			second:     request("Authorization: Basic alice:secret2"),
			wantCached: false, wantLen: 1, // the second is a failed login
		},
		{
			name:       "different users are different entries",
			first:      request("Authorization: Basic alice:secret"),
			second:     request("Authorization: Basic bob:hunter2"),
			wantCached: false, wantLen: 2,
		},
		{
			name:       "a header another domain declared is part of the key",
			first:      request("Authorization: Basic alice:secret"),
			second:     request("Authorization: Basic alice:secret", "X-Proxy-Roles: admin"),
			wantCached: false, wantLen: 2,
		},
		{
			name:       "with anonymous enabled auth_type is part of the key",
			anonymous:  true,
			first:      request("Authorization: Basic alice:secret"),
			second:     request("Authorization: Basic alice:secret", "?auth_type=anonymous"),
			wantCached: false, wantLen: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := start(t, Config{
				Domains:   []Domain{basicDomain("basic", true, users()), proxyDomain("proxy", false, nil)},
				Anonymous: tt.anonymous,
				CacheTTL:  time.Hour,
			})
			ask(t, p, tt.first)
			got := ask(t, p, tt.second)
			if got.Cached != tt.wantCached {
				t.Errorf("second answer cached = %v, want %v", got.Cached, tt.wantCached)
			}
			if n := p.CacheLen(); n != tt.wantLen {
				t.Errorf("cache holds %d entries, want %d", n, tt.wantLen)
			}
			if b := p.CacheBytes(); (b > 0) != (tt.wantLen > 0) {
				t.Errorf("cache holds %d bytes for %d entries", b, tt.wantLen)
			}
			if got.Cached && got.Identity.User.Name != "alice" {
				t.Errorf("cached identity is %q, want alice", got.Identity.User.Name)
			}
		})
	}
}

func TestCache_OnlySuccessIsCached(t *testing.T) {
	tests := []struct {
		name    string
		domains func(v *fakeVerifier) []Domain
		req     *sdk.Request
		want    Outcome
	}{
		{
			name:    "a failed login is not cached",
			domains: func(v *fakeVerifier) []Domain { return []Domain{basicDomain("basic", true, v)} },
			req:     request("Authorization: Basic alice:wrong"),
			want:    Challenged,
		},
		{
			name: "an unavailable answer is not cached",
			domains: func(v *fakeVerifier) []Domain {
				v.err = errDirectoryDown
				return []Domain{basicDomain("basic", true, v)}
			},
			req:  request("Authorization: Basic alice:secret"),
			want: Unavailable,
		},
		{
			// The failed domain is not asked again while a later domain's
			// answer is kept (found by review: once the first domain worked
			// again, the second's identity answered until the entry expired).
			name: "an answer while an earlier domain failed is not cached",
			domains: func(v *fakeVerifier) []Domain {
				ldap := users()
				ldap.err = errors.New("ldap plugin: unexpected result code")
				return []Domain{basicDomain("ldap", true, ldap), basicDomain("internal", true, v)}
			},
			req:  request("Authorization: Basic alice:secret"),
			want: Authenticated,
		},
		{
			name: "a challenge is not cached",
			domains: func(v *fakeVerifier) []Domain {
				return []Domain{spnegoDomain("kerberos", true), basicDomain("basic", true, v)}
			},
			req:  request("Authorization: Negotiate step"),
			want: Challenged,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := users()
			domains := tt.domains(v)
			p := start(t, Config{Domains: domains, CacheTTL: time.Hour})
			for i := range 2 {
				if got := ask(t, p, tt.req); got.Outcome != tt.want || got.Cached {
					t.Fatalf("request %d: outcome %v cached %v, want %v uncached", i, got.Outcome, got.Cached, tt.want)
				}
			}
			if n := extractCalls(domains[0]); n != 2 {
				t.Errorf("extract calls = %d, want 2", n)
			}
			if n := p.CacheLen(); n != 0 {
				t.Errorf("cache holds %d entries, want 0", n)
			}
		})
	}
}

func TestCache_RequestWithoutCredentialsIsNotCached(t *testing.T) {
	// An authenticator that trusts the client address alone: with nothing
	// but the address to go on there is no credential to cache under, also
	// when another domain declares headers.
	byAddress := Domain{Name: "lan", AuthenticatorType: "ip", Inputs: sdk.Inputs{ClientAddress: true},
		Authenticator: &fakeExtractor{fn: func(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
			return &sdk.Credentials{Username: "host-" + r.ClientAddress, CacheTTL: sdk.CacheForever}, nil
		}}}
	p := start(t, Config{Domains: []Domain{proxyDomain("proxy", false, nil), byAddress}, CacheTTL: time.Hour})
	for range 2 {
		if got := ask(t, p, request()); got.Outcome != Authenticated || got.Cached {
			t.Fatalf("outcome %v cached %v, want a fresh authentication", got.Outcome, got.Cached)
		}
	}
	if n := p.CacheLen(); n != 0 {
		t.Errorf("cache holds %d entries, want 0", n)
	}
	if n := extractCalls(byAddress); n != 2 {
		t.Errorf("extract calls = %d, want 2", n)
	}
}

func TestCache_AnonymousLoginIsPartOfTheKey(t *testing.T) {
	// Two requests with the same declared inputs, one without an
	// Authorization header (an anonymous login) and one with a header no
	// domain reads (not one): they must not share an answer in flight.
	g := newGate(2)
	defer g.open()
	proxy := proxyDomain("proxy", false, nil)
	inner := proxy.Authenticator.(*fakeExtractor).fn
	proxy.Authenticator = &fakeExtractor{fn: func(ctx context.Context, r *sdk.Request) (*sdk.Credentials, error) {
		if err := g.wait(ctx); err != nil {
			return nil, err
		}
		return inner(ctx, r)
	}}
	p := start(t, Config{Domains: []Domain{proxy}, Anonymous: true, CacheTTL: time.Hour})
	anon, other := make(chan Result, 1), make(chan Result, 1)
	go func() { anon <- ask(t, p, request("X-Proxy-Roles: r")) }()
	g.arrived(t, 1)
	go func() { other <- ask(t, p, request("X-Proxy-Roles: r", "Authorization: Basic x")) }()
	waitFor(t, "both requests in Authenticate", func() bool { return blockedIn(inAuthenticate) >= 2 })
	g.open()
	if r := receive(t, anon, "the anonymous login"); r.Outcome != Authenticated || r.Identity.User.Name != AnonymousUser {
		t.Errorf("anonymous login: outcome %v, want the anonymous user", r.Outcome)
	}
	if r := receive(t, other, "the request with a header"); r.Outcome != Challenged || r.Challenge != finalFailure {
		t.Errorf("request with an Authorization header: outcome %v %+v, want 401 %q", r.Outcome, r.Identity, FinalFailureBody)
	}
}

func TestIdentityCache_IsBounded(t *testing.T) {
	c := newIdentityCache(time.Hour)
	var k cacheKey
	for i := range maxCacheEntries + 10 {
		k = cacheKeyOf(i)
		c.put(k, cacheEntry{user: sdk.User{Name: fmt.Sprint("u", i)}}, c.now(), time.Hour)
	}
	if n := c.len(); n != maxCacheEntries {
		t.Fatalf("%d entries, want the bound %d", n, maxCacheEntries)
	}
	if _, ok := c.get(k); !ok {
		t.Error("the newest entry was evicted")
	}
}

func TestCache_AddressesAreKeyedByIP(t *testing.T) {
	// A realm that declares the client address input may decide on the IPs
	// of the socket and of the client (a trusted proxy, an allowed
	// network), never on a port: every connection has a new one.
	at := func(socket, client string) *sdk.Request {
		r := request("X-Proxy-User: alice")
		r.SocketAddress, r.ClientAddress = socket, client
		return r
	}
	tests := []struct {
		name          string
		clientAddress bool // a domain declares the ClientAddress input
		first, second *sdk.Request
		wantCached    bool
		wantLen       int
	}{
		{
			name:          "the same IPs from other ports are one entry",
			clientAddress: true,
			first:         at("10.0.0.1:40000", "192.0.2.7:40000"),
			second:        at("10.0.0.1:40001", "192.0.2.7:40001"),
			wantCached:    true, wantLen: 1,
		},
		{
			name:          "IPv6 addresses with and without a port are one entry",
			clientAddress: true,
			first:         at("[::1]:80", "[2001:db8::7]:443"),
			second:        at("::1", "2001:db8::7"),
			wantCached:    true, wantLen: 1,
		},
		{
			name:          "an IPv6 address in brackets without a port is the same IP",
			clientAddress: true,
			first:         at("[::1]:80", "192.0.2.7:1"),
			second:        at("[::1]", "192.0.2.7"),
			wantCached:    true, wantLen: 1,
		},
		{
			name:          "another socket IP is another entry",
			clientAddress: true,
			first:         at("10.0.0.1:40000", "192.0.2.7:40000"),
			second:        at("10.0.0.2:40000", "192.0.2.7:40000"),
			wantCached:    false, wantLen: 2,
		},
		{
			name:          "another client IP is another entry",
			clientAddress: true,
			first:         at("10.0.0.1:40000", "192.0.2.7:40000"),
			second:        at("10.0.0.1:40000", "192.0.2.8:40000"),
			wantCached:    false, wantLen: 2,
		},
		{
			name:          "socket and client IPs are separate fields",
			clientAddress: true,
			first:         at("10.0.0.1:40000", "192.0.2.7:40000"),
			second:        at("192.0.2.7:40000", "10.0.0.1:40000"),
			wantCached:    false, wantLen: 2,
		},
		{
			name:       "without the input the addresses are not part of the key",
			first:      at("10.0.0.1:40000", "192.0.2.7:40000"),
			second:     at("10.0.0.2:50000", "198.51.100.1:50000"),
			wantCached: true, wantLen: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := proxyDomain("proxy", false, nil)
			d.Inputs.ClientAddress = tt.clientAddress
			p := start(t, Config{Domains: []Domain{d}, CacheTTL: time.Hour})
			if got := ask(t, p, tt.first); got.Outcome != Authenticated || got.Cached {
				t.Fatalf("first request: outcome %v cached %v, want a fresh authentication", got.Outcome, got.Cached)
			}
			got := ask(t, p, tt.second)
			if got.Outcome != Authenticated || got.Cached != tt.wantCached {
				t.Errorf("second request: outcome %v cached %v, want authenticated, cached %v", got.Outcome, got.Cached, tt.wantCached)
			}
			if n := p.CacheLen(); n != tt.wantLen {
				t.Errorf("cache holds %d entries, want %d", n, tt.wantLen)
			}
			want := 2 // the second request asks the realm again
			if tt.wantCached {
				want = 1
			}
			if n := extractCalls(d); n != want {
				t.Errorf("extract calls = %d, want %d", n, want)
			}
		})
	}
}

// ignoringExtractor reads "Authorization: Basic alice:secret" as the real
// basic realm does: only the second space-separated word, so "Basic
// alice:secret junk" is the same credential under another cache key.
func ignoringExtractor() *fakeExtractor {
	return &fakeExtractor{fn: func(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
		f := strings.Fields(r.HeaderValue("Authorization"))
		if len(f) < 2 || f[0] != "Basic" {
			return nil, nil
		}
		user, pass, _ := strings.Cut(f[1], ":")
		return &sdk.Credentials{Username: user, Password: []byte(pass), CacheTTL: sdk.CacheForever}, nil
	}}
}

// Text a realm ignores makes each variation of one valid credential a key
// of its own, a full verification and an entry with its own copy of the
// user. One identity (domain and user name) holds at most 64 keys: the
// 65th evicts one of that identity's, and other users keep theirs (found
// by review: one valid credential filled the cache to about 2 GiB, and
// random eviction then pushed out the other users).
func TestCache_OneIdentityHoldsAtMost64Keys(t *testing.T) {
	d := basicDomain("basic", true, users())
	d.Authenticator = ignoringExtractor()
	p := start(t, Config{Domains: []Domain{d}, CacheTTL: time.Hour})
	variation := func(i int) *sdk.Request {
		return request(fmt.Sprintf("Authorization: Basic alice:secret junk-%d", i))
	}
	ask(t, p, request("Authorization: Basic bob:hunter2"))
	for i := range 65 {
		if got := ask(t, p, variation(i)); got.Outcome != Authenticated || got.Cached {
			t.Fatalf("variation %d: outcome %v cached %v, want a fresh authentication", i, got.Outcome, got.Cached)
		}
	}
	checkCache(t, p.cache)
	if n := p.CacheLen(); n != 65 {
		t.Errorf("cache holds %d entries, want 65: 64 of alice's and bob's", n)
	}
	if got := ask(t, p, request("Authorization: Basic bob:hunter2")); !got.Cached {
		t.Error("bob was evicted by alice's variations")
	}
}

// checkCache fails t unless c's bookkeeping matches its entries: the byte
// count is the sum of their sizes, each identity lists exactly its keys,
// and none lists more than maxKeys.
func checkCache(t *testing.T, c *identityCache) {
	t.Helper()
	c.mu.RLock()
	defer c.mu.RUnlock()
	bytes, listed := 0, 0
	for k, e := range c.entries {
		bytes += e.size
		if !slices.Contains(c.keys[identityOf(&e)], k) {
			t.Errorf("entry of %q is not listed under its identity", e.user.Name)
		}
	}
	for id, keys := range c.keys {
		listed += len(keys)
		if len(keys) == 0 || len(keys) > c.maxKeys {
			t.Errorf("identity %q lists %d keys, want 1 to %d", id.name, len(keys), c.maxKeys)
		}
	}
	if bytes != c.bytes || listed != len(c.entries) {
		t.Errorf("cache counts %d bytes and lists %d keys; its %d entries hold %d bytes", c.bytes, listed, len(c.entries), bytes)
	}
}

func cacheKeyOf(i int) cacheKey {
	var k cacheKey
	k[0], k[1], k[2] = byte(i), byte(i>>8), byte(i>>16)
	return k
}

// When the cache is full, a new key of an identity that holds 64 evicts
// one of that identity's keys, never another user's entry.
func TestIdentityCache_IdentityEvictsOneOfItsOwnKeys(t *testing.T) {
	c := newIdentityCache(time.Hour)
	c.maxEntries = 65
	d := &Domain{Name: "basic"}
	c.put(cacheKeyOf(1000), cacheEntry{user: sdk.User{Name: "bob"}, domain: d}, c.now(), time.Hour)
	for i := range 65 {
		c.put(cacheKeyOf(i), cacheEntry{user: sdk.User{Name: "alice"}, domain: d}, c.now(), time.Hour)
	}
	checkCache(t, c)
	kept := 0
	for i := range 65 {
		if _, ok := c.get(cacheKeyOf(i)); ok {
			kept++
		}
	}
	if kept != 64 {
		t.Errorf("%d of alice's 65 keys are cached, want 64", kept)
	}
	if _, ok := c.get(cacheKeyOf(64)); !ok {
		t.Error("alice's newest key was evicted, want one of her older ones")
	}
	if _, ok := c.get(cacheKeyOf(1000)); !ok {
		t.Error("bob was evicted")
	}
	// The same user name in another domain is another identity.
	c.maxEntries++
	c.put(cacheKeyOf(2000), cacheEntry{user: sdk.User{Name: "alice"}, domain: &Domain{Name: "ldap"}}, c.now(), time.Hour)
	checkCache(t, c)
	if got := len(c.keys[identity{d, "alice"}]); got != 64 {
		t.Errorf("alice of basic holds %d keys after alice of ldap came, want 64", got)
	}
}

// The cache's entries hold at most maxBytes (approximately: entrySize);
// a new entry evicts others to make room, and one larger than the whole
// bound is not stored.
func TestIdentityCache_BytesAreBounded(t *testing.T) {
	c := newIdentityCache(time.Hour)
	clock := &fakeClock{}
	c.now = clock.now
	entry := func(i int) cacheEntry {
		return cacheEntry{user: sdk.User{Name: fmt.Sprintf("user-%03d", i), BackendRoles: []string{strings.Repeat("r", 1000)},
			Attributes: map[string]string{"attr.jwt.groups": strings.Repeat("g", 1000)}}}
	}
	one := entry(0)
	size := entrySize(&one)
	if size < 2000 {
		t.Fatalf("entrySize = %d, want at least the 2,000 bytes of the role and attribute", size)
	}
	c.maxBytes = 10*size + size/2
	for i := range 40 {
		c.put(cacheKeyOf(i), entry(i), c.now(), time.Hour)
	}
	checkCache(t, c)
	if n := c.len(); n != 10 || c.bytes > c.maxBytes {
		t.Errorf("%d entries of %d bytes, want the 10 that fit in %d", n, c.bytes, c.maxBytes)
	}
	if _, ok := c.get(cacheKeyOf(39)); !ok {
		t.Error("the newest entry was evicted")
	}
	huge := entry(100)
	huge.user.BackendRoles = []string{strings.Repeat("r", c.maxBytes)}
	c.put(cacheKeyOf(100), huge, c.now(), time.Hour)
	checkCache(t, c)
	if _, ok := c.get(cacheKeyOf(100)); ok || c.len() != 10 {
		t.Errorf("an entry larger than the bound: cached %v, %d entries left; want it refused and the 10 kept", ok, c.len())
	}
	// Expired entries give their bytes back.
	clock.advance(2 * time.Hour)
	c.put(cacheKeyOf(41), entry(41), c.now(), time.Hour)
	checkCache(t, c)
	if n := c.len(); n != 1 || c.bytes != size {
		t.Errorf("after the sweep: %d entries of %d bytes, want 1 of %d", n, c.bytes, size)
	}
}

// cycle asks c for keys first, first+1, ... first+n-1 of identity id in
// turn, rounds times, putting each key that misses; it returns the hits.
func cycle(c *identityCache, d *Domain, name string, first, n, rounds int) (hits int) {
	for range rounds {
		for i := first; i < first+n; i++ {
			k := cacheKeyOf(i)
			if _, ok := c.get(k); ok {
				hits++
				continue
			}
			c.put(k, cacheEntry{user: sdk.User{Name: name}, domain: d}, c.now(), time.Hour)
		}
	}
	return hits
}

// One JWT subject with 17 live tokens used in turn (17 pods of one service
// account, one user's refreshed tokens on several devices) keeps its hits:
// with 16 keys per identity, each evicting the identity's oldest, 85
// requests made no hit at all (found by review).
func TestCache_SeventeenTokensOfOneSubjectKeepTheirHits(t *testing.T) {
	c := newIdentityCache(time.Hour)
	const tokens, rounds = 17, 5
	hits := cycle(c, &Domain{Name: "jwt"}, "svc", 0, tokens, rounds)
	checkCache(t, c)
	if want := (rounds - 1) * tokens; hits != want {
		t.Errorf("%d requests with %d tokens of one subject: %d hits, want %d (every request after the first round)", rounds*tokens, tokens, hits, want)
	}
}

// An identity at its cap evicts a random one of its keys, so one more
// live key than the cap, used in turn, still mostly hits (evicting the
// oldest, every request misses), and the identity never holds more than
// the cap. The random source is seeded: the counts are fixed.
func TestIdentityCache_KeysCyclingBeyondTheCapKeepMostHits(t *testing.T) {
	tests := []struct {
		name    string
		maxKeys int
		keys    int
	}{
		{name: "65 keys, the cap of 64", maxKeys: maxKeysPerIdentity, keys: 65},
		{name: "17 keys, a cap of 16", maxKeys: 16, keys: 17},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newIdentityCache(time.Hour)
			c.maxKeys = tt.maxKeys
			c.randN = rand.New(rand.NewPCG(1, 2)).IntN
			d := &Domain{Name: "jwt"}
			c.put(cacheKeyOf(1<<20), cacheEntry{user: sdk.User{Name: "bob"}, domain: d}, c.now(), time.Hour)
			const rounds = 20
			cycle(c, d, "svc", 0, tt.keys, 1) // the first round fills the cache
			hits := cycle(c, d, "svc", 0, tt.keys, rounds-1)
			checkCache(t, c) // the identity lists at most maxKeys keys
			if held := len(c.keys[identity{d, "svc"}]); held != tt.maxKeys {
				t.Errorf("the identity holds %d keys, want its cap %d", held, tt.maxKeys)
			}
			if n := c.len(); n != tt.maxKeys+1 {
				t.Errorf("the cache holds %d entries, want the identity's %d and bob's", n, tt.maxKeys)
			}
			if _, ok := c.get(cacheKeyOf(1 << 20)); !ok {
				t.Error("bob was evicted by another identity's keys")
			}
			requests := (rounds - 1) * tt.keys
			if hits < requests*3/4 { // 97% and 89% with this seed
				t.Errorf("%d requests cycling %d keys over a cap of %d: %d hits, want at least three in four", requests, tt.keys, tt.maxKeys, hits)
			}
		})
	}
}

func TestCache_ATokenIsNotServedPastItsExpiryWhenAuthorizationWasSlow(t *testing.T) {
	// A JWT realm answers the time left to exp when it verifies the token;
	// authorization and the rest of the trip take time after that. The
	// entry must end at exp, not that much later: with no clock skew the
	// realm refuses the token from exp on (found by review: an LDAP
	// authorizer taking 5 s kept the identity cached 5 s past exp).
	var clock *fakeClock
	exp := time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC) // a minute after newClock's time
	d := bearerDomain("jwt", true)
	d.Authenticator = &fakeExtractor{fn: func(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
		if r.HeaderValue("Authorization") != "Bearer carol" {
			return nil, nil
		}
		return &sdk.Credentials{Username: "carol", CacheTTL: exp.Sub(clock.now())}, nil
	}}
	slow := &fakeGranter{grant: &sdk.Grant{CacheTTL: sdk.CacheForever}, before: func(context.Context, *sdk.User) error {
		clock.advance(5 * time.Second)
		return nil
	}}
	p := start(t, Config{Domains: []Domain{d}, Authz: []AuthzDomain{{Name: "ldap", Backend: slow}}, CacheTTL: time.Hour})
	clock = newClock(p)
	r := request("Authorization: Bearer carol")
	if got := ask(t, p, r); got.Outcome != Authenticated || got.Cached {
		t.Fatalf("first request: outcome %v cached %v, want a fresh authentication", got.Outcome, got.Cached)
	}
	clock.t.Store(exp.Add(-time.Nanosecond).UnixNano())
	if got := ask(t, p, r); !got.Cached {
		t.Errorf("not cached just before exp")
	}
	clock.t.Store(exp.UnixNano())
	if got := ask(t, p, r); got.Cached {
		t.Errorf("served from the cache at exp: the entry outlived the token by the time authorization took")
	}
}
