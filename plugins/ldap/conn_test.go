package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/sdk"
)

// generous bounds calls that must fail fast; it is no timing assertion.
const generous = 30 * time.Second

func TestTLS_StartTLSAndLDAPSWithThePrivateCA(t *testing.T) {
	s := startDirectory(t)
	ldapsPort := strconv.Itoa(s.LDAPSPort)
	base := map[string]any{"usersearch": "(uid={0})"}
	tests := []struct {
		name   string
		config map[string]any
	}{
		{name: "starttls, CA file, host name", config: map[string]any{
			"hosts": "localhost:" + strconv.Itoa(s.LDAPPort), "enable_start_tls": true, "pemtrustedcas_filepath": s.CAFile}},
		{name: "ldaps, inline CA, IP address", config: map[string]any{
			"hosts": s.LDAPSAddr(), "enable_ssl": true, "pemtrustedcas_content": string(s.CAPEM)}},
		{name: "ldaps URL", config: map[string]any{
			"hosts": []any{"ldaps://localhost:" + ldapsPort}, "pemtrustedcas_filepath": s.CAFile}},
		{name: "trust_all without a CA", config: map[string]any{
			"hosts": s.LDAPSAddr(), "enable_ssl": true, "trust_all": true}},
		{name: "TLS 1.3 only", config: map[string]any{
			"hosts": s.LDAPSAddr(), "enable_ssl": true, "pemtrustedcas_filepath": s.CAFile, "enabled_ssl_protocols": []any{"TLSv1.3"}}},
		{name: "TLS 1.2 with a chosen cipher", config: map[string]any{
			"hosts": s.LDAPSAddr(), "enable_ssl": true, "pemtrustedcas_filepath": s.CAFile,
			"enabled_ssl_protocols": "TLSv1.2, TLSv1.1", "enabled_ssl_ciphers": []any{"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"}}},
		{name: "client certificate binds with SASL EXTERNAL", config: map[string]any{
			"hosts": s.LDAPSAddr(), "enable_ssl": true, "pemtrustedcas_filepath": s.CAFile,
			"enable_ssl_client_auth": true, "pemcert_filepath": s.ClientCertFile, "pemkey_filepath": s.ClientKeyFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBackend(t, merge(base, tt.config), nil)
			u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret"))
			if err != nil || u == nil || u.Name != jacksonDN {
				t.Fatalf("Authenticate: %+v, %v", u, err)
			}
		})
	}
}

func TestTLS_UntrustedServerCertificateIsUnavailableWithAClearLog(t *testing.T) {
	s := startDirectory(t)
	tests := []struct {
		name   string
		config map[string]any
		host   string
	}{
		{name: "ldaps", host: s.LDAPSAddr(), config: map[string]any{
			"hosts": s.LDAPSAddr(), "enable_ssl": true, "pemtrustedcas_filepath": s.OtherCAFile}},
		{name: "starttls", host: s.LDAPAddr(), config: map[string]any{
			"hosts": s.LDAPAddr(), "enable_start_tls": true, "pemtrustedcas_content": string(s.OtherCAPEM)}},
		{name: "system roots", host: s.LDAPSAddr(), config: map[string]any{"hosts": s.LDAPSAddr(), "enable_ssl": true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.LogBuffer{}
			b := newTestBackend(t, merge(tt.config, map[string]any{"usersearch": "(uid={0})"}), logs)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			_, err := b.Authenticate(ctx, creds("jacksonm", "secret"))
			if !errors.Is(err, sdk.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if !contains(logs.String(), "[ERROR]", "ldap server certificate is not trusted", "host="+tt.host, "pemtrustedcas_filepath") {
				t.Fatalf("no clear log line:\n%s", logs)
			}
		})
	}
}

func TestTLS_VerifyHostnames(t *testing.T) {
	s := startDirectory(t)
	conn, err := tls.Dial("tcp", s.LDAPSAddr(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	state := conn.ConnectionState()
	conn.Close()
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.CAPEM)
	other := x509.NewCertPool()
	other.AppendCertsFromPEM(s.OtherCAPEM)
	tests := []struct {
		name    string
		cfg     TLSConfig
		roots   *x509.CertPool
		host    string
		wantErr bool
	}{
		{name: "name in the certificate", cfg: TLSConfig{VerifyHostnames: true}, roots: roots, host: "localhost"},
		{name: "IP in the certificate", cfg: TLSConfig{VerifyHostnames: true}, roots: roots, host: "127.0.0.1"},
		{name: "other name", cfg: TLSConfig{VerifyHostnames: true}, roots: roots, host: "ldap.example.com", wantErr: true},
		{name: "other name without verify_hostnames", cfg: TLSConfig{}, roots: roots, host: "ldap.example.com"},
		{name: "untrusted without verify_hostnames", cfg: TLSConfig{}, roots: other, host: "localhost", wantErr: true},
		{name: "untrusted with trust_all", cfg: TLSConfig{TrustAll: true}, roots: other, host: "ldap.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.verifyPeer(state, tt.roots, tt.host)
			if (err != nil) != tt.wantErr {
				t.Fatalf("verifyPeer: %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestOutage_UnavailableWhileStoppedThenRecovers(t *testing.T) {
	s := startDirectory(t)
	for _, pooled := range []bool{true, false} {
		t.Run("pool "+strconv.FormatBool(pooled), func(t *testing.T) {
			cfg := map[string]any{
				"hosts": s.LDAPAddr(), "usersearch": "(uid={0})", "rolebase": "ou=groups,o=TEST",
				"rolesearch": "(uniqueMember={0})", "rolename": "cn", "connect_timeout": 2000,
				"pool": map[string]any{"enabled": pooled, "min_size": 1},
			}
			logs := &testenv.LogBuffer{}
			b := newTestBackend(t, cfg, logs)
			a := newTestAuthorizer(t, cfg, nil)
			check := func(wantUp bool) {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), generous)
				defer cancel()
				u, errB := b.Authenticate(ctx, creds("jacksonm", "secret"))
				g, errA := a.Authorize(ctx, &sdk.User{Name: "jacksonm"})
				if ctx.Err() != nil {
					t.Fatal("calls did not return before the deadline")
				}
				if wantUp {
					if errB != nil || u == nil || errA != nil || !slices.Equal(g.BackendRoles, []string{"ceo", "role2"}) {
						t.Fatalf("directory up: user %v (%v), grant %v (%v)", u, errB, g, errA)
					}
					return
				}
				if !errors.Is(errB, sdk.ErrUnavailable) || !errors.Is(errA, sdk.ErrUnavailable) {
					t.Fatalf("directory down: Authenticate %v, Authorize %v; want ErrUnavailable", errB, errA)
				}
			}
			check(true)
			s.Stop()
			check(false)
			check(false)
			s.Start()
			check(true)
			check(true)
			if !contains(logs.String(), "ldap server unreachable", "ldap server reachable again") {
				t.Fatalf("log lacks the outage and the recovery:\n%s", logs)
			}
		})
	}
}

// A caller that leaves while realmd connects (a client gone away) says
// nothing about the directory: it is not logged as unreachable, and the
// error names the cancellation (found by review: every client disconnect
// during a dial logged a healthy directory as down, then as back).
func TestHosts_ACancelledCallDoesNotMarkTheServerDown(t *testing.T) {
	s := startDirectory(t)
	logs := &testenv.LogBuffer{}
	b := newTestBackend(t, map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})"}, logs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Authenticate(ctx, creds("jacksonm", "secret")); !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("cancelled call: %v; want unavailable, naming the cancellation", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), generous)
	defer cancel()
	if u, err := b.Authenticate(ctx, creds("jacksonm", "secret")); u == nil || err != nil {
		t.Fatalf("next call: %v, %v", u, err)
	}
	if strings.Contains(logs.String(), "unreachable") || strings.Contains(logs.String(), "reachable again") {
		t.Fatalf("a healthy directory was logged as down:\n%s", logs)
	}
}

func TestHosts_FailOverInOrder(t *testing.T) {
	s := startDirectory(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	logs := &testenv.LogBuffer{}
	b := newTestBackend(t, map[string]any{"hosts": []any{closed, "ldap://" + s.LDAPAddr()}, "usersearch": "(uid={0})"}, logs)
	u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret"))
	if err != nil || u == nil {
		t.Fatalf("Authenticate: %v, %v", u, err)
	}
	if !contains(logs.String(), "ldap server unreachable", "host="+closed) {
		t.Fatalf("log lacks the failed host:\n%s", logs)
	}
}

func TestPool_ReusesConnections(t *testing.T) {
	s := startDirectory(t)
	const calls = 10
	tests := []struct {
		name      string
		pool      map[string]any
		wantDials int64
	}{
		{name: "pooled: one search and one bind connection", pool: map[string]any{"enabled": true, "min_size": 0}, wantDials: 2},
		{name: "unpooled: two connections per call", pool: map[string]any{"enabled": false}, wantDials: 2 * calls},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBackend(t, map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})", "pool": tt.pool}, nil)
			for range calls {
				if u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret")); err != nil || u == nil {
					t.Fatalf("Authenticate: %v, %v", u, err)
				}
			}
			if got := b.dir.dialer.dials.Load(); got != tt.wantDials {
				t.Fatalf("%d connections opened, want %d", got, tt.wantDials)
			}
		})
	}
}

func TestPool_BoundsConcurrentConnections(t *testing.T) {
	s := startDirectory(t)
	for _, typ := range []string{"blocking", "soft"} {
		t.Run(typ, func(t *testing.T) {
			b := newTestBackend(t, map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})",
				"pool": map[string]any{"enabled": true, "min_size": 0, "max_size": 2, "type": typ}}, nil)
			var wg sync.WaitGroup
			errs := make(chan error, 32)
			for range 32 {
				wg.Go(func() {
					u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret"))
					if err == nil && u == nil {
						err = errors.New("rejected")
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			for name, p := range map[string]*pool{"search": b.dir.search, "bind": b.dir.binds} {
				if size, idle := p.stats(); size > 2 || idle > size {
					t.Fatalf("%s pool: %d connections, %d idle; max_size is 2", name, size, idle)
				}
			}
			if typ == "blocking" && b.dir.dialer.dials.Load() > 4 {
				t.Fatalf("blocking pools opened %d connections, want at most 4", b.dir.dialer.dials.Load())
			}
		})
	}
}

func TestResponseTimeout_SilentServerIsUnavailable(t *testing.T) {
	b := newTestBackend(t, map[string]any{"hosts": silentServer(t), "response_timeout": 100, "usersearch": "(uid={0})"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), generous)
	defer cancel()
	_, err := b.Authenticate(ctx, creds("jacksonm", "secret"))
	if !errors.Is(err, sdk.ErrUnavailable) || ctx.Err() != nil {
		t.Fatalf("got %v (context %v), want ErrUnavailable before the deadline", err, ctx.Err())
	}
}

// silentServer accepts TCP connections on a loopback port and never
// answers (a hung or overloaded directory) until the test ends. It returns
// the address.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accept, read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		for _, c := range held {
			c.Close()
		}
	})
	return l.Addr().String()
}

// Only the directory's answer to the service bind is logged as a bind
// failure with its "check bind_dn and password" hint. A server that does
// not answer within connect_timeout, or a TLS alert during the bind (a
// server that requires a client certificate, none configured), is the
// server being unreachable; both were logged as a wrong password (found by
// review).
func TestServiceBind_TimeoutAndTLSFailureAreNotAWrongPassword(t *testing.T) {
	s := startDirectory(t)
	bind := map[string]any{"usersearch": "(uid={0})", "bind_dn": "cn=Captain Spock,ou=people,o=TEST", "password": "spocksecret"}
	tests := []struct {
		name   string
		config map[string]any
	}{
		{name: "no answer within connect_timeout", config: map[string]any{"hosts": silentServer(t), "connect_timeout": 300}},
		{name: "tls alert: client certificate required", config: map[string]any{
			"hosts": []any{"ldaps://" + mtlsProxy(t, s)}, "pemtrustedcas_filepath": s.CAFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.LogBuffer{}
			b := newTestBackend(t, merge(bind, tt.config), logs)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			_, err := b.Authenticate(ctx, creds("jacksonm", "secret"))
			if !errors.Is(err, sdk.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if !contains(logs.String(), "[ERROR]", "ldap server unreachable", "service bind: ") ||
				contains(logs.String(), "ldap service bind failed") || contains(logs.String(), "check bind_dn") {
				t.Fatalf("want an unreachable server, not a bind failure, in the log:\n%s", logs)
			}
		})
	}
}

func TestAuthenticate_ExpiredContextIsUnavailable(t *testing.T) {
	s := startDirectory(t)
	b := newTestBackend(t, map[string]any{"hosts": s.LDAPAddr(), "usersearch": "(uid={0})", "pool.enabled": true}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := b.Authenticate(ctx, creds("jacksonm", "secret")); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if u, err := b.Authenticate(context.Background(), creds("jacksonm", "secret")); err != nil || u == nil {
		t.Fatalf("after a cancelled call: %v, %v", u, err)
	}
}
