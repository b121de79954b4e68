package core

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/pipeline"
	"github.com/realmd/realmd/sdk"
)

// userFromHeader is an in-process authenticator: the user named in X-User.
type userFromHeader struct{}

func (userFromHeader) Extract(_ context.Context, r *sdk.Request) (*sdk.Credentials, string, error) {
	if u := r.HeaderValue("X-User"); u != "" {
		return &sdk.Credentials{Username: u}, "", nil
	}
	return nil, "no X-User", nil
}

// userFromQuery is an in-process authenticator: the user named in the
// query parameter token.
type userFromQuery struct{}

func (userFromQuery) Extract(_ context.Context, r *sdk.Request) (*sdk.Credentials, string, error) {
	if u := r.QueryValue("token"); u != "" {
		return &sdk.Credentials{Username: u}, "", nil
	}
	return nil, "no token", nil
}

// inProcessGeneration is a generation without plugin processes: one domain
// whose authenticator runs in this process, X-Forwarded-For trusted from
// 127.0.0.1 and 10.x.
func inProcessGeneration(t *testing.T, id uint64) *Generation {
	return generationFor(t, id, pipeline.Config{
		Domains: []pipeline.Domain{{Name: "test", Authenticator: userFromHeader{}, Inputs: sdk.Inputs{Headers: []string{"X-User"}}}},
	})
}

// generationFor is inProcessGeneration with the pipeline config pc.
func generationFor(t *testing.T, id uint64, pc pipeline.Config) *Generation {
	t.Helper()
	xff, err := newXFFResolver(config.XFF{Enabled: true, InternalProxies: `127\.0\.0\.1|10\.\d+\.\d+\.\d+`, RemoteIPHeader: "X-Forwarded-For"})
	if err != nil {
		t.Fatal(err)
	}
	s := &config.Settings{Realmd: config.Realmd{Headers: config.IdentityHeaders{User: "X-Auth-User", Roles: "X-Auth-Roles", BackendRoles: "X-Auth-Backend-Roles"}}}
	pc.QueueSize = 8
	return &Generation{ID: id, Settings: s, Pipeline: pipeline.New(pc), xff: xff, pool: newInstancePool()}
}

// longTrustedXFF is an X-Forwarded-For chain of 500 trusted proxies: it
// keeps a request between picking its generation and entering its pipeline
// for a while, so that reloads land in that window.
func longTrustedXFF() string {
	hops := make([]string, 500)
	for i := range hops {
		hops[i] = "10.0.0.1"
	}
	return "192.0.2.7, " + strings.Join(hops, ", ")
}

func TestFrontDoor_ARequestOverlappingAReloadIsAnsweredNot503(t *testing.T) {
	d := New(Options{})
	d.current.Store(inProcessGeneration(t, 1))
	fd := &frontDoor{d: d, logger: d.logger}

	xff := longTrustedXFF()

	const clients, requestsEach = 4, 50
	done := make(chan struct{})
	var reloader sync.WaitGroup
	reloader.Add(1)
	go func() { // reload until the clients are done, as Daemon.Reload does: swap, then close the old generation
		defer reloader.Done()
		for i := uint64(2); ; i++ {
			select {
			case <-done:
				return
			default:
			}
			old := d.current.Swap(inProcessGeneration(t, i))
			old.close()
		}
	}()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range requestsEach {
				r := httptest.NewRequest(http.MethodGet, "/auth", nil)
				r.RemoteAddr = "127.0.0.1:4000"
				r.Header.Set("X-User", "alice")
				r.Header.Set("X-Forwarded-For", xff)
				w := httptest.NewRecorder()
				fd.forwardAuth(w, r)
				mu.Lock()
				codes[w.Code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(done)
	reloader.Wait()
	d.current.Load().close()
	if codes[http.StatusOK] != clients*requestsEach {
		t.Errorf("answers by status: %v; want all %d to be 200", codes, clients*requestsEach)
	}
}

// genUser is an in-process authenticator that names its generation: the
// user is "gen<id>".
type genUser uint64

func (g genUser) Extract(context.Context, *sdk.Request) (*sdk.Credentials, string, error) {
	return &sdk.Credentials{Username: fmt.Sprintf("gen%d", uint64(g))}, "", nil
}

// A reload that renames the identity headers must not split a request
// between two generations: the generation that answers checks the request
// for its own headers spelled with underscores and writes its own header
// names. Before the fix, a request that picked a closed generation was
// retried on the next one but kept the first one's header names and its
// underscore check, so X_Who_Roles passed a generation that uses X-Who-Roles.
func TestFrontDoor_AReloadThatRenamesIdentityHeadersAnswersWithOneGeneration(t *testing.T) {
	names := func(id uint64) config.IdentityHeaders {
		if id%2 == 0 {
			return config.IdentityHeaders{User: "X-Who-User", Roles: "X-Who-Roles", BackendRoles: "X-Who-Backend-Roles"}
		}
		return config.IdentityHeaders{User: "X-Auth-User", Roles: "X-Auth-Roles", BackendRoles: "X-Auth-Backend-Roles"}
	}
	gen := func(id uint64) *Generation {
		g := generationFor(t, id, pipeline.Config{Domains: []pipeline.Domain{{Name: "test", Authenticator: genUser(id)}}})
		g.Settings.Realmd.Headers = names(id)
		return g
	}
	d := New(Options{})
	d.current.Store(gen(1))
	fd := &frontDoor{d: d, logger: d.logger}

	xff := longTrustedXFF()

	ask := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/auth", nil)
		r.RemoteAddr = "127.0.0.1:4000"
		r.Header.Set("X-Forwarded-For", xff)
		r.Header["X_Who_Roles"] = []string{"all_access"} // even generations must refuse it
		w := httptest.NewRecorder()
		fd.forwardAuth(w, r)
		return w
	}
	// Without a reload each kind answers as itself.
	if w := ask(); w.Code != http.StatusOK || w.Result().Header.Get("X-Auth-User") != "gen1" {
		t.Fatalf("generation 1: %d %v, want 200 with X-Auth-User gen1", w.Code, w.Result().Header)
	}
	d.current.Swap(gen(2)).close()
	if w := ask(); w.Code != http.StatusForbidden || w.Result().Header.Get("X-Who-User") != "" {
		t.Fatalf("generation 2: %d %v, want 403 with X-Who-User set empty", w.Code, w.Result().Header)
	}

	done := make(chan struct{})
	var reloader sync.WaitGroup
	reloader.Add(1)
	go func() {
		defer reloader.Done()
		for i := uint64(3); ; i++ {
			select {
			case <-done:
				return
			default:
			}
			old := d.current.Swap(gen(i))
			old.close()
		}
	}()
	var mu sync.Mutex
	codes := map[int]int{}
	var wrong []string
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				w := ask()
				got := w.Result().Header
				mu.Lock()
				codes[w.Code]++
				var id uint64
				user := got.Get("X-Auth-User") + got.Get("X-Who-User")
				_, _ = fmt.Sscanf(user, "gen%d", &id)
				switch {
				case w.Code == http.StatusOK && (id == 0 || id%2 == 0):
					wrong = append(wrong, fmt.Sprintf("200 for %q from a generation that uses X-Who-Roles", user))
				case w.Code == http.StatusOK && got.Get("X-Auth-User") != user:
					wrong = append(wrong, fmt.Sprintf("200 for %q under another generation's header names: %v", user, got))
				case w.Code != http.StatusOK && w.Code != http.StatusForbidden:
					wrong = append(wrong, fmt.Sprintf("status %d", w.Code))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(done)
	reloader.Wait()
	d.current.Load().close()
	if len(wrong) > 0 {
		t.Errorf("%d of 400 answers mixed generations (statuses %v), e.g. %s", len(wrong), codes, wrong[0])
	}
}

func TestFrontDoor_MetricsCountAnswersByOutcome(t *testing.T) {
	d := New(Options{})
	d.current.Store(inProcessGeneration(t, 7))
	fd := &frontDoor{d: d, logger: d.logger}
	h := fd.routes()
	ask := func(header http.Header) {
		r := httptest.NewRequest("GET", "/auth", nil)
		r.RemoteAddr = "192.0.2.1:1234"
		r.Header = header
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	ask(http.Header{"X-User": {"alice"}})
	ask(http.Header{"X-User": {"bob"}})
	ask(http.Header{})                                            // no domain challenges: the final failure
	ask(http.Header{"_opendistro_security_user": {"x"}})          // reserved
	ask(http.Header{"X-Forwarded-For": {"no-such-host.invalid"}}) // an untrusted peer: XFF is ignored, so 401

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body := w.Body.String()
	for _, want := range []string{
		`realmd_requests_total{outcome="authenticated"} 2`,
		`realmd_requests_total{outcome="challenged"} 2`,
		`realmd_requests_total{outcome="forbidden"} 1`,
		`realmd_requests_total{outcome="unavailable"} 0`,
		`realmd_request_duration_seconds_count 5`,
		`realmd_config_generation 7`,
		`realmd_config_last_reload_refused 0`,
		`realmd_identity_cache_entries 0`,
		`realmd_identity_cache_bytes 0`,
		`realmd_config_reloads_total{result="refused"} 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// resolveXFF resolves r's client as the front door does (newRequest).
func resolveXFF(xff *xffResolver, r *http.Request) (string, pipeline.Caller, error) {
	req, caller, err := newRequest(r, xff)
	if err != nil {
		return "", caller, err
	}
	return req.ClientAddress, caller, nil
}

// The client address from X-Forwarded-For is the address alone: an IPv6
// zone is any bytes a client chose and is dropped, and an IPv4-mapped IPv6
// address (nginx listening dual-stack) is the IPv4 address, as Java's
// InetAddress makes it, so that hosts mappings and ignore_hosts match.
func TestXFF_ClientAddressIsNormalised(t *testing.T) {
	xff, err := newXFFResolver(config.XFF{Enabled: true, InternalProxies: `127\.0\.0\.1`, RemoteIPHeader: "X-Forwarded-For"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ header, wantClient, wantIP string }{
		{"fe80::1%\xff\xfe", "[fe80::1]:5000", "fe80::1"},
		{"::ffff:192.0.2.7", "192.0.2.7:5000", "192.0.2.7"}, // found by review
		{"2001:db8::7", "[2001:db8::7]:5000", "2001:db8::7"},
	} {
		r := httptest.NewRequest("GET", "/auth", nil)
		r.RemoteAddr = "127.0.0.1:5000"
		r.Header.Set("X-Forwarded-For", tt.header)
		client, caller, err := resolveXFF(xff, r)
		if err != nil || client != tt.wantClient || caller.IP != tt.wantIP {
			t.Errorf("X-Forwarded-For %q: resolve = %q, %+v, %v; want %s, %s", tt.header, client, caller, err, tt.wantClient, tt.wantIP)
		}
	}
}

// An IPv6 client in brackets is its address, as Java's
// InetAddress.getByName reads it (found by review: realmd looked it up as a
// name and answered 500). With a port, or around an IPv4 address, brackets
// make no address in Java either, nor does a port after an IPv4 address:
// OpenSearch fails to resolve those (500) and so does realmd.
func TestXFF_BracketedIPv6Client(t *testing.T) {
	xff, err := newXFFResolver(config.XFF{Enabled: true, InternalProxies: `127\.0\.0\.1`, RemoteIPHeader: "X-Forwarded-For"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ header, wantClient, wantIP string }{
		{"[2001:db8::1]", "[2001:db8::1]:5000", "2001:db8::1"},
		{"[2001:DB8:0::1], 127.0.0.1", "[2001:db8::1]:5000", "2001:db8::1"},
		{"[::ffff:192.0.2.7]", "192.0.2.7:5000", "192.0.2.7"},
		{"[fe80::1%eth0]", "[fe80::1]:5000", "fe80::1"},
		{"[2001:db8::1]:443", "", ""},
		{"192.0.2.1:80", "", ""},
		{"[192.0.2.1]", "", ""},
		{"[2001:db8::1", "", ""},
	} {
		r := httptest.NewRequest("GET", "/auth", nil)
		r.RemoteAddr = "127.0.0.1:5000"
		r.Header.Set("X-Forwarded-For", tt.header)
		client, caller, err := resolveXFF(xff, r)
		if tt.wantClient == "" {
			if err == nil {
				t.Errorf("X-Forwarded-For %q: resolve = %q, %+v; want an error (500)", tt.header, client, caller)
			}
			continue
		}
		if err != nil || client != tt.wantClient || caller.IP != tt.wantIP {
			t.Errorf("X-Forwarded-For %q: resolve = %q, %+v, %v; want %s, %s", tt.header, client, caller, err, tt.wantClient, tt.wantIP)
		}
	}
}

// OpenSearch matches xff.internalProxies against the proxy's address as
// Java's InetAddress.getHostAddress writes it, 0:0:0:0:0:0:0:1 for ::1; an
// IPv6 proxy is trusted when a pattern matches that form or Go's (found by
// review: only Go's ::1 was matched, so an OpenSearch config stopped
// trusting its IPv6 proxy).
func TestXFF_IPv6ProxyMatchesInJavaOrGoForm(t *testing.T) {
	for _, tt := range []struct {
		name, proxies, remote string
		trusted               bool
	}{
		{"Java form of ::1", `0:0:0:0:0:0:0:1`, "[::1]:5000", true},
		{"Go form of ::1", `::1`, "[::1]:5000", true},
		{"Java form as a regex", `2001:db8(:0)+:7`, "[2001:db8::7]:5000", true},
		{"Java form with a zone", `fe80:0:0:0:0:0:0:1%eth0`, "[fe80::1%eth0]:5000", true},
		{"another address", `0:0:0:0:0:0:0:2|::2`, "[::1]:5000", false},
		{"IPv4 unchanged", `127\.0\.0\.1`, "127.0.0.1:5000", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			xff, err := newXFFResolver(config.XFF{Enabled: true, InternalProxies: tt.proxies, RemoteIPHeader: "X-Forwarded-For"})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/auth", nil)
			r.RemoteAddr = tt.remote
			r.Header.Set("X-Forwarded-For", "203.0.113.9")
			client, caller, err := resolveXFF(xff, r)
			if err != nil {
				t.Fatal(err)
			}
			if got := caller.IP == "203.0.113.9"; got != tt.trusted {
				t.Errorf("proxy %s with internalProxies %q: resolve = %q, %+v; trusted %v, want %v", tt.remote, tt.proxies, client, caller, got, tt.trusted)
			}
		})
	}
}

// debugFrontDoor is a front door serving an in-process generation that
// logs at debug level to the builder it returns, written by the goroutine
// that calls ServeHTTP only.
func debugFrontDoor(t *testing.T) (*frontDoor, *strings.Builder) {
	t.Helper()
	buf := &strings.Builder{}
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: buf})
	d := New(Options{Logger: logger})
	d.current.Store(inProcessGeneration(t, 1))
	return &frontDoor{d: d, logger: logger}, buf
}

// The debug log names the path, never the query: it may carry a token.
func TestFrontDoor_DebugLogLeavesOutTheQuery(t *testing.T) {
	fd, buf := debugFrontDoor(t)
	r := httptest.NewRequest("GET", "/auth?access_token=SECRET-TOKEN", nil)
	r.Header.Set("X-User", "alice")
	fd.routes().ServeHTTP(httptest.NewRecorder(), r)
	if !strings.Contains(buf.String(), "request answered") || strings.Contains(buf.String(), "SECRET-TOKEN") {
		t.Fatalf("debug log:\n%s", buf.String())
	}
}

// The path is the client's (from X-Forwarded-Uri behind a proxy): the
// debug line keeps it on its line, quoted, whatever it holds. Go's server
// refuses a header value with a line break today; the handler does not
// count on it.
func TestFrontDoor_DebugLogKeepsThePathOnItsLine(t *testing.T) {
	fd, buf := debugFrontDoor(t)
	r := httptest.NewRequest("GET", "/auth", nil)
	r.Header.Set("X-User", "alice")
	r.Header.Set("X-Forwarded-Uri", "/app\n2026-01-01T00:00:00.000Z [WARN]  forged")
	fd.routes().ServeHTTP(httptest.NewRecorder(), r)
	want := `path="/app\n2026-01-01T00:00:00.000Z [WARN]  forged"`
	if got := buf.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, want) {
		t.Fatalf("debug log, want one line with %s:\n%s", want, got)
	}
}

// Envoy's HTTP ext_authz asks /auth + the original path. A path with //,
// /./ or /../ is answered, not redirected to its cleaned form, which Envoy
// would hand to the client as a denial (found by review).
func TestFrontDoor_EnvoyPathsAreAnsweredAsTheyAre(t *testing.T) {
	d := New(Options{})
	d.current.Store(inProcessGeneration(t, 1))
	defer d.current.Load().close()
	h := (&frontDoor{d: d, logger: d.logger}).routes()
	for _, path := range []string{"/auth", "/auth/api/v1", "/auth//api/v1", "/auth/a/../b", "/auth/./x", "/auth/"} {
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("X-User", "alice")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Header().Get("X-Auth-User") != "alice" {
			t.Errorf("%s: %d, X-Auth-User %q, Location %q; want 200 for alice", path, w.Code, w.Header().Get("X-Auth-User"), w.Header().Get("Location"))
		}
	}
}

// Behind a proxy the client's query is in X-Forwarded-Uri or
// X-Original-URI, never in the /auth request's own URL: realms that read a
// query parameter (jwt_url_parameter) and anonymous auth's auth_type read
// it from there (found by review).
func TestFrontDoor_ForwardAuthReadsTheOriginalQuery(t *testing.T) {
	d := New(Options{})
	d.current.Store(generationFor(t, 1, pipeline.Config{
		Domains: []pipeline.Domain{{Name: "q", Challenge: true, Authenticator: userFromQuery{}, Inputs: sdk.Inputs{Query: []string{"token"}},
			ChallengeResponse: sdk.Challenge{WWWAuthenticate: `Bearer realm="test"`}}},
		Anonymous: true,
	}))
	defer d.current.Load().close()
	h := (&frontDoor{d: d, logger: d.logger}).routes()
	for _, tt := range []struct {
		name, target string
		header       map[string]string
		wantCode     int
		wantUser     string
	}{
		{name: "called directly: the query of the URL", target: "/auth?token=alice", wantCode: 200, wantUser: "alice"},
		{name: "X-Forwarded-Uri", target: "/auth", header: map[string]string{"X-Forwarded-Uri": "/app?token=bob"}, wantCode: 200, wantUser: "bob"},
		{name: "X-Original-URI", target: "/auth", header: map[string]string{"X-Original-URI": "/app?x=1&token=carol"}, wantCode: 200, wantUser: "carol"},
		{name: "the /auth URL's query is not the client's", target: "/auth?token=alice", header: map[string]string{"X-Forwarded-Uri": "/app"},
			wantCode: 200, wantUser: "opendistro_security_anonymous"},
		{name: "auth_type other than anonymous is no anonymous login", target: "/auth", header: map[string]string{"X-Forwarded-Uri": "/app?auth_type=saml"},
			wantCode: 401},
		// The query is read as OpenSearch's RestUtils reads it (found by
		// review: Go's url.ParseQuery kept the first value and dropped a
		// pair holding ";").
		{name: "a repeated auth_type is its last value", target: "/auth?auth_type=saml&auth_type=anonymous",
			wantCode: 200, wantUser: "opendistro_security_anonymous"},
		{name: "a semicolon separates parameters", target: "/auth?x=1;auth_type=saml", wantCode: 401},
		{name: "a forwarded semicolon separates parameters", target: "/auth", header: map[string]string{"X-Forwarded-Uri": "/app?x=1;auth_type=saml"},
			wantCode: 401},
		{name: "a malformed escape leaves no parameters", target: "/auth?token=alice&x=%zz",
			wantCode: 200, wantUser: "opendistro_security_anonymous"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode || w.Header().Get("X-Auth-User") != tt.wantUser {
				t.Fatalf("%d, X-Auth-User %q; want %d, %q", w.Code, w.Header().Get("X-Auth-User"), tt.wantCode, tt.wantUser)
			}
		})
	}
}

// An identity header spelled with underscores is refused: proxies replace
// the exact names only, and CGI-style apps merge X_Auth_Roles into
// X-Auth-Roles, so a client's value would add roles (found by review). The
// exact names and other underscore headers are not refused.
func TestFrontDoor_IdentityHeadersWithUnderscoresAreRefused(t *testing.T) {
	askWithHeader(t, inProcessGeneration(t, 1), map[string]int{
		"X_Auth_Roles":         http.StatusForbidden,
		"x_auth_user":          http.StatusForbidden,
		"X-Auth_Backend-Roles": http.StatusForbidden,
		"X-Auth-Roles":         http.StatusOK, // the proxy overwrites it for the app
		"X_Request_Id":         http.StatusOK,
	})
}

// An identity header name configured with underscores is refused in its
// dashed spelling, for the same reason (found by review: X-Remote-Roles
// passed when the configured name was X_Remote_Roles).
func TestFrontDoor_IdentityHeadersConfiguredWithUnderscoresAreRefusedWithDashes(t *testing.T) {
	g := inProcessGeneration(t, 1)
	g.Settings.Realmd.Headers = config.IdentityHeaders{User: "X_Remote_User", Roles: "X_Remote_Roles", BackendRoles: "X-Remote_Backend-Roles"}
	askWithHeader(t, g, map[string]int{
		"X-Remote-Roles":         http.StatusForbidden,
		"x-remote-user":          http.StatusForbidden,
		"X_Remote_Backend_Roles": http.StatusForbidden,
		"X-Remote-Backend-Roles": http.StatusForbidden,
		"X_Remote_Roles":         http.StatusOK, // the configured name: the proxy overwrites it
		"x_remote_roles":         http.StatusOK, // the same name in another case
		"X-Remote_Backend-Roles": http.StatusOK, // as configured
		"X-Remote-Rolez":         http.StatusOK,
		"X\rRemote-Roles":        http.StatusOK, // not a header a CGI app merges
	})
}

// askWithHeader asks g's /auth as alice with each header (as sent, not
// canonicalised) and checks the status; a 403 must name the header in
// lower case and the identity header it respells.
func askWithHeader(t *testing.T, g *Generation, want map[string]int) {
	t.Helper()
	d := New(Options{})
	d.current.Store(g)
	defer g.close()
	h := (&frontDoor{d: d, logger: d.logger}).routes()
	for name, code := range want {
		r := httptest.NewRequest("GET", "/auth", nil)
		r.Header.Set("X-User", "alice")
		r.Header[name] = []string{"all_access"}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != code {
			t.Errorf("header %q: %d, want %d; body %s", name, w.Code, code, w.Body)
		}
		if msg := `header \"` + strings.ToLower(name) + `\" is not allowed: it is another spelling of the identity header `; code == http.StatusForbidden && !strings.Contains(w.Body.String(), msg) {
			t.Errorf("header %q: body %s, want it to say %s", name, w.Body, msg)
		}
	}
}

// fakeDNS answers reverse lookups from ptr and forward ones from a.
type fakeDNS struct {
	ptr map[string][]string
	a   map[string][]netip.Addr
}

func (f fakeDNS) LookupAddr(_ context.Context, ip string) ([]string, error) {
	if names, ok := f.ptr[ip]; ok {
		return names, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: ip, IsNotFound: true}
}

func (f fakeDNS) LookupHost(_ context.Context, host string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (f fakeDNS) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if addrs, ok := f.a[host]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// A reverse DNS name counts only when it resolves back to the address, as
// Java's InetAddress confirms it: whoever runs the reverse zone of an
// address could otherwise name it into a hosts mapping (found by review).
func TestLookupAddr_OnlyForwardConfirmedNames(t *testing.T) {
	old := resolver
	t.Cleanup(func() { resolver = old })
	resolver = fakeDNS{
		ptr: map[string][]string{"192.0.2.66": {"admin.corp.example.", "host66.corp.example."}, "192.0.2.67": {"admin.corp.example."}},
		a: map[string][]netip.Addr{
			"host66.corp.example.": {netip.MustParseAddr("::ffff:192.0.2.66")},
			"admin.corp.example.":  {netip.MustParseAddr("198.51.100.1")},
		},
	}
	for addr, want := range map[string][]string{
		"192.0.2.66": {"host66.corp.example."}, // the first name that resolves back
		"192.0.2.67": nil,                      // a name claimed by the reverse zone only
		"192.0.2.68": nil,                      // no reverse name
	} {
		got, _ := lookupAddr(context.Background(), addr)
		if !slices.Equal(got, want) {
			t.Errorf("lookupAddr(%s) = %q, want %q", addr, got, want)
		}
	}
}

// A repeated header is its last line, as OpenSearch's REST layer keeps it,
// for every realm, one that reads Header itself too (found by review:
// wrong-then-right Authorization lines were 401 in realmd, 200 in
// OpenSearch).
func TestNewRequest_ARepeatedHeaderIsItsLastLine(t *testing.T) {
	xff, err := newXFFResolver(config.XFF{})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/auth", nil)
	r.Header.Add("Authorization", "Basic d3Jvbmc=")
	r.Header.Add("authorization", "Basic cmlnaHQ=")
	r.Header.Add("X-Once", "1")
	// The forward-auth headers too (found by review: they were read from
	// their first line).
	r.Header.Add("X-Forwarded-Uri", "/first?auth_type=anonymous")
	r.Header.Add("X-Forwarded-Uri", "/second?b=2")
	r.Header.Add("X-Forwarded-Method", "DELETE")
	r.Header.Add("X-Forwarded-Method", "PUT")
	req, _, err := newRequest(r, xff)
	if err != nil {
		t.Fatal(err)
	}
	if req.Path != "/second?b=2" || req.Method != "PUT" || req.QueryValue("b") != "2" || req.QueryValue("auth_type") != "" {
		t.Errorf("path %q method %q query %q, want the last lines' /second?b=2 and PUT", req.Path, req.Method, req.Query)
	}
	if got := req.Header["Authorization"]; !slices.Equal(got, []string{"Basic cmlnaHQ="}) {
		t.Errorf("Authorization = %q, want the last line only", got)
	}
	if got := req.Header["X-Once"]; !slices.Equal(got, []string{"1"}) {
		t.Errorf("X-Once = %q, want [1]", got)
	}
	if got := r.Header.Values("Authorization"); len(got) != 2 {
		t.Errorf("the HTTP request's own header changed: %q", got)
	}
}

// A request target's query is what follows `?` before any `#`: OpenSearch
// cuts at the first `#` anywhere, so "/app#x?auth_type=anonymous" has no
// parameters (found by review: realmd read the query after the fragment).
func TestQueryOf_FragmentBeforeTheQuery(t *testing.T) {
	for uri, want := range map[string]string{
		"/app?a=1#b=2":               "a=1",
		"/app#x?auth_type=anonymous": "",
		"/app":                       "",
		"/app?":                      "",
		"http://h/p?x=1":             "x=1",
	} {
		if got := queryOf(uri); got != want {
			t.Errorf("queryOf(%q) = %q, want %q", uri, got, want)
		}
	}
	r := httptest.NewRequest("GET", "/auth", nil)
	r.Header.Set("X-Forwarded-Uri", "/app#x?auth_type=anonymous")
	req, _, err := newRequest(r, &xffResolver{})
	if err != nil || len(req.Query) != 0 {
		t.Fatalf("query %q, %v; want none", req.Query, err)
	}
	r = httptest.NewRequest("GET", "/auth#x?auth_type=anonymous", nil)
	if req, _, err = newRequest(r, &xffResolver{}); err != nil || len(req.Query) != 0 {
		t.Fatalf("a direct request's query %q, %v; want none", req.Query, err)
	}
}

// parseQuery reads a query as OpenSearch's RestUtils.decodeQueryString.
func TestParseQuery_AsOpenSearch(t *testing.T) {
	for _, tt := range []struct {
		name, query string
		want        map[string][]string
	}{
		{"last value wins", "a=1&a=2", map[string][]string{"a": {"2"}}},
		{"semicolon separates", "a=1;b=2", map[string][]string{"a": {"1"}, "b": {"2"}}},
		{"name without a value", "a&b=", map[string][]string{"a": {""}, "b": {""}}},
		{"the first = ends the name", "a==b", map[string][]string{"a": {"=b"}}},
		{"a leading = is skipped", "=a=b&=c", map[string][]string{"a": {"b"}, "c": {""}}},
		{"a lone = is nothing", "=&&;", map[string][]string{}},
		{"plus and escapes decode", "a+b=%2B%20x+y", map[string][]string{"a b": {"+ x y"}}},
		{"a double percent is one", "auth_type=saml&note=100%%", map[string][]string{"auth_type": {"saml"}, "note": {"100%"}}},
		{"a percent at the end is malformed", "a=1&b=x%", map[string][]string{}},
		{"a malformed escape leaves nothing", "a=1&b=%zz", map[string][]string{}},
		{"a truncated escape leaves nothing", "a=1&b%2=x", map[string][]string{}},
		{"empty", "", map[string][]string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := parseQuery(queryOf("/p?" + tt.query))
			if len(got) != len(tt.want) {
				t.Fatalf("parseQuery(%q) = %q, want %q", tt.query, got, tt.want)
			}
			for k, v := range tt.want {
				if !slices.Equal(got[k], v) {
					t.Errorf("parseQuery(%q) = %q, want %q", tt.query, got, tt.want)
				}
			}
		})
	}
}

// Of a repeated X-Forwarded-For only the last line counts, as OpenSearch's
// REST layer keeps it (found by review: a client's own line before the
// proxy's named the client, 203.0.113.7, where OpenSearch reads 127.0.0.1).
func TestXFF_ARepeatedHeaderIsItsLastLine(t *testing.T) {
	xff, err := newXFFResolver(config.XFF{Enabled: true, InternalProxies: `127\.0\.0\.1`, RemoteIPHeader: "X-Forwarded-For"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		lines      []string
		wantClient string
	}{
		{"a trusted last line", []string{"203.0.113.7", "127.0.0.1"}, "127.0.0.1:5000"},
		{"a client in the last line", []string{"203.0.113.7", "198.51.100.2, 127.0.0.1"}, "198.51.100.2:5000"},
		{"one line", []string{"203.0.113.7, 127.0.0.1"}, "203.0.113.7:5000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/auth", nil)
			r.RemoteAddr = "127.0.0.1:5000"
			for _, l := range tt.lines {
				r.Header.Add("X-Forwarded-For", l)
			}
			client, _, err := resolveXFF(xff, r)
			if err != nil || client != tt.wantClient {
				t.Errorf("resolve = %q, %v; want %q", client, err, tt.wantClient)
			}
		})
	}
}

// No answer may be cached by a proxy: an nginx proxy_cache at server level
// kept one user's 200 and gave that identity to every later request (found
// by review).
func TestFrontDoor_NoAnswerIsCacheable(t *testing.T) {
	d := New(Options{})
	d.current.Store(inProcessGeneration(t, 1))
	fd := &frontDoor{d: d, logger: d.logger}
	h := fd.routes()
	for _, tt := range []struct {
		path   string
		header http.Header
	}{
		{path: "/auth", header: http.Header{"X-User": {"alice"}}},                // 200
		{path: "/auth", header: http.Header{}},                                   // 401
		{path: "/auth", header: http.Header{"_opendistro_security_user": {"x"}}}, // 403
		{path: "/_plugins/_security/authinfo", header: http.Header{"X-User": {"alice"}}},
		{path: "/_realmd/status"},
	} {
		r := httptest.NewRequest("GET", tt.path, nil)
		r.RemoteAddr = "192.0.2.1:1234"
		r.Header = tt.header
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if got := w.Result().Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %v: %d with Cache-Control %q, want no-store", tt.path, tt.header, w.Code, got)
		}
	}
}

// A comma inside a role never reads as two roles downstream: it is written
// %2C, and % as %25 (found by review: a JWT role "dev,all_access" gave the
// application all_access).
func TestJoinRoles_ACommaAlwaysSeparatesRoles(t *testing.T) {
	for _, tt := range []struct {
		roles []string
		want  string
	}{
		{nil, ""},
		{[]string{"a", "b"}, "a,b"},
		{[]string{"dev,all_access"}, "dev%2Call_access"},
		{[]string{"x", "cn=admins,ou=groups", "50%"}, "x,cn=admins%2Cou=groups,50%25"},
		{[]string{"a%2Cb", "a,b"}, "a%252Cb,a%2Cb"},
	} {
		if got := joinRoles(tt.roles); got != tt.want {
			t.Errorf("joinRoles(%q) = %q, want %q", tt.roles, got, tt.want)
		}
	}
}
