package core

import (
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/pipeline"
	"github.com/realmd/realmd/sdk"
)

// countingDNS is a fake DNS that counts its lookups. Every address has the
// reverse name h-<address with dashes>.example., which resolves back to it;
// a name under .example that is no such reverse name resolves to
// 192.0.2.77; anything else is not found.
type countingDNS struct {
	mu    sync.Mutex
	calls map[string]int // "ptr 192.0.2.1", "a name", "host name"
}

func newCountingDNS(t *testing.T) *countingDNS {
	t.Helper()
	f := &countingDNS{calls: map[string]int{}}
	old := resolver
	t.Cleanup(func() { resolver = old })
	resolver = f
	return f
}

func (f *countingDNS) count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func (f *countingDNS) note(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[key]++
}

func (f *countingDNS) LookupAddr(_ context.Context, ip string) ([]string, error) {
	f.note("ptr " + ip)
	return []string{"h-" + strings.NewReplacer(".", "-", ":", "-").Replace(ip) + ".example."}, nil
}

func (f *countingDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	f.note("a " + host)
	if name, ok := strings.CutPrefix(strings.TrimSuffix(host, ".example."), "h-"); ok {
		if a, err := netip.ParseAddr(strings.ReplaceAll(name, "-", ".")); err == nil {
			return []netip.Addr{a}, nil
		}
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f *countingDNS) LookupHost(_ context.Context, host string) ([]string, error) {
	f.note("host " + host)
	if strings.HasSuffix(host, ".example") {
		return []string{"192.0.2.77"}, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// lookupSerial makes each test's names and addresses its own, so that what
// an earlier test (or an earlier run under -count) cached does not count.
var lookupSerial atomic.Uint32

// freshIP is an address no other test looks up.
func freshIP() string {
	n := lookupSerial.Add(1)
	return fmt.Sprintf("198.18.%d.%d", n/250, n%250+1)
}

// An X-Forwarded-For client given by name is looked up once, not on every
// request, as Java's InetAddress caches it (30 s; a name that does not
// resolve, 10 s). Found by review: every request made a live DNS lookup of
// a name the client chose.
func TestXFF_AClientNameIsLookedUpOnceForManyRequests(t *testing.T) {
	dns := newCountingDNS(t)
	xff, err := newXFFResolver(config.XFF{Enabled: true, InternalProxies: `127\.0\.0\.1`})
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("client-%d.example", lookupSerial.Add(1))
	missing := fmt.Sprintf("client-%d.invalid", lookupSerial.Add(1))
	for range 3 {
		r := httptest.NewRequest("GET", "/auth", nil)
		r.RemoteAddr = "127.0.0.1:1234"
		r.Header.Set("X-Forwarded-For", name)
		req, caller, err := newRequest(r, xff)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if req.ClientAddress != "192.0.2.77:1234" || caller.IP != "192.0.2.77" || caller.Host != name {
			t.Errorf("client %q, caller %+v; want 192.0.2.77 named %s", req.ClientAddress, caller, name)
		}
		r.Header.Set("X-Forwarded-For", missing)
		if _, _, err := newRequest(r, xff); err == nil {
			t.Errorf("%s resolved; want an error (500)", missing)
		}
	}
	if n := dns.count("host " + name); n != 1 {
		t.Errorf("%s was looked up %d times for 3 requests, want once", name, n)
	}
	if n := dns.count("host " + missing); n != 1 {
		t.Errorf("%s (not found) was looked up %d times for 3 requests, want once", missing, n)
	}
}

// In ip-hostname-lookup mode a hosts mapping looks the caller's address up
// once, not on every request (an identity cache hit included).
func TestRoleMapping_HostsLookupIsCached(t *testing.T) {
	dns := newCountingDNS(t)
	s := &config.Settings{}
	s.Security.HostsResolverMode = pipeline.IPHostnameLookup
	s.RoleMappings = []config.RoleMapping{{Role: "from_example", Hosts: []string{"*.example"}}}
	m, err := newRoleMapper(s)
	if err != nil {
		t.Fatal(err)
	}
	ip := freshIP()
	for range 3 {
		u := sdk.User{Name: "alice"}
		if roles := m.Map(context.Background(), &u, pipeline.Caller{IP: ip}); len(roles) != 1 || roles[0] != "from_example" {
			t.Errorf("roles %q, want [from_example]", roles)
		}
	}
	if n := dns.count("ptr " + ip); n != 1 {
		t.Errorf("%s was looked up %d times for 3 requests, want once", ip, n)
	}
}

// ignore_hosts, under the ip-hostname modes, looks a blocked address up
// once, not on every request it makes.
func TestIgnoreHosts_LookupIsCached(t *testing.T) {
	dns := newCountingDNS(t)
	ignore := ignoreHosts([]string{"*.example"}, pipeline.IPHostnameLookup)
	ip := freshIP()
	for range 3 {
		if !ignore(context.Background(), ip) {
			t.Errorf("%s not ignored; its name matches *.example", ip)
		}
	}
	if n := dns.count("ptr " + ip); n != 1 {
		t.Errorf("%s was looked up %d times for 3 requests, want once", ip, n)
	}
}
