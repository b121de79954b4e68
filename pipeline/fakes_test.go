package pipeline

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/textproto"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// Test fakes for the three plugin roles. Each counts its calls so tests can
// assert which domains the chain asked.

// guard bounds every wait in these tests so that a bug deadlocks nothing; it
// is never the thing a test asserts.
const guard = 10 * time.Second

var (
	basicChallenge   = sdk.Challenge{WWWAuthenticate: `Basic realm="OpenSearch Security"`, Body: "Unauthorized", ContentType: "text/plain; charset=UTF-8"}
	bearerChallenge  = sdk.Challenge{WWWAuthenticate: `Bearer realm="OpenSearch Security"`}
	negotiateBody    = `{"error":{"header":{"WWW-Authenticate":"Negotiate"}}}`
	spnegoChallenge  = sdk.Challenge{WWWAuthenticate: "Negotiate", Body: negotiateBody, ContentType: "application/json"}
	finalFailure     = sdk.Challenge{Body: FinalFailureBody, ContentType: "text/plain; charset=UTF-8"}
	errDirectoryDown = fmt.Errorf("dialing directory: %w", sdk.ErrUnavailable)
)

// fakeExtractor is an http_authenticator.
type fakeExtractor struct {
	calls atomic.Int32
	fn    func(ctx context.Context, r *sdk.Request) (*sdk.Credentials, error)
}

func (f *fakeExtractor) Extract(ctx context.Context, r *sdk.Request) (*sdk.Credentials, string, error) {
	f.calls.Add(1)
	c, err := f.fn(ctx, r)
	return c, "fake", err
}

// basicExtractor reads "Authorization: Basic user:password" (plain text, to
// keep tests readable). "Basic" without a colon is malformed.
func basicExtractor(ttl time.Duration) *fakeExtractor {
	return &fakeExtractor{fn: func(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
		v, ok := strings.CutPrefix(r.HeaderValue("Authorization"), "Basic ")
		if !ok {
			return nil, nil
		}
		user, pass, ok := strings.Cut(v, ":")
		if !ok {
			return nil, fmt.Errorf("decoding basic header: %w", sdk.ErrMalformed)
		}
		return &sdk.Credentials{Username: user, Password: []byte(pass), CacheTTL: ttl}, nil
	}}
}

// bearerExtractor reads "Authorization: Bearer <user>[;role,role]" and
// verifies the token itself; the token "down" means its IdP is unreachable.
func bearerExtractor(ttl time.Duration) *fakeExtractor {
	return &fakeExtractor{fn: func(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
		tok, ok := strings.CutPrefix(r.HeaderValue("Authorization"), "Bearer ")
		if !ok {
			return nil, nil
		}
		if tok == "down" {
			return nil, fmt.Errorf("fetching jwks: %w", sdk.ErrUnavailable)
		}
		user, roles, _ := strings.Cut(tok, ";")
		c := &sdk.Credentials{Username: user, CacheTTL: ttl}
		if roles != "" {
			c.BackendRoles = strings.Split(roles, ",")
		}
		return c, nil
	}}
}

// proxyExtractor reads X-Proxy-User and X-Proxy-Roles.
func proxyExtractor() *fakeExtractor {
	return &fakeExtractor{fn: func(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
		user := r.HeaderValue("X-Proxy-User")
		if user == "" {
			return nil, nil
		}
		c := &sdk.Credentials{Username: user, CacheTTL: sdk.CacheForever}
		if roles := r.HeaderValue("X-Proxy-Roles"); roles != "" {
			c.BackendRoles = strings.Split(roles, ",")
		}
		return c, nil
	}}
}

// spnegoExtractor reads "Authorization: Negotiate <token>": the token
// "step" needs another round, any other token names the user.
func spnegoExtractor() *fakeExtractor {
	return &fakeExtractor{fn: func(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
		tok, ok := strings.CutPrefix(r.HeaderValue("Authorization"), "Negotiate ")
		if !ok {
			return nil, nil
		}
		if tok == "step" {
			return &sdk.Credentials{Continue: "Negotiate c2VydmVy"}, nil
		}
		return &sdk.Credentials{Username: tok, CacheTTL: sdk.CacheForever}, nil
	}}
}

// fakeVerifier is an authentication_backend with a fixed user table.
type fakeVerifier struct {
	calls     atomic.Int32
	passwords map[string]string
	roles     map[string][]string
	ttl       time.Duration
	err       error
	// loginName, when set, is the LoginName of every user answered (a
	// backend may name the login other than the credentials did).
	loginName string
	// block, when set, is called before answering (to hold a call open).
	block func(ctx context.Context) error
}

func (f *fakeVerifier) Authenticate(ctx context.Context, c *sdk.Credentials) (*sdk.User, string, error) {
	f.calls.Add(1)
	if f.block != nil {
		if err := f.block(ctx); err != nil {
			return nil, "", err
		}
	}
	if f.err != nil {
		return nil, "", f.err
	}
	want, known := f.passwords[c.Username]
	if subtle.ConstantTimeCompare([]byte(want), c.Password) != 1 || !known {
		return nil, "wrong password", nil
	}
	return &sdk.User{Name: c.Username, BackendRoles: f.roles[c.Username], CacheTTL: f.ttl, LoginName: f.loginName}, "", nil
}

func users() *fakeVerifier {
	return &fakeVerifier{
		passwords: map[string]string{"alice": "secret", "bob": "hunter2"},
		roles:     map[string][]string{"alice": {"admins"}, "bob": {"staff"}},
		ttl:       sdk.CacheForever,
	}
}

// fakeGranter is an authorization_backend.
type fakeGranter struct {
	calls atomic.Int32
	grant *sdk.Grant
	err   error
	// before, when set, runs first; its error is returned.
	before func(ctx context.Context, u *sdk.User) error
}

func (f *fakeGranter) Authorize(ctx context.Context, u *sdk.User) (*sdk.Grant, error) {
	f.calls.Add(1)
	if f.before != nil {
		if err := f.before(ctx, u); err != nil {
			return nil, err
		}
	}
	return f.grant, f.err
}

// Domain builders.

func basicDomain(name string, challenge bool, v Verifier) Domain {
	return Domain{Name: name, Challenge: challenge, AuthenticatorType: "basic", Authenticator: basicExtractor(sdk.CacheForever),
		Inputs: sdk.Inputs{Headers: []string{"authorization"}}, ChallengeResponse: basicChallenge, Backend: v}
}

func bearerDomain(name string, challenge bool) Domain {
	return Domain{Name: name, Challenge: challenge, AuthenticatorType: "jwt", Authenticator: bearerExtractor(sdk.CacheForever),
		Inputs: sdk.Inputs{Headers: []string{"Authorization"}}, ChallengeResponse: bearerChallenge}
}

func proxyDomain(name string, challenge bool, v Verifier) Domain {
	return Domain{Name: name, Challenge: challenge, AuthenticatorType: "proxy", Authenticator: proxyExtractor(),
		Inputs: sdk.Inputs{Headers: []string{"X-Proxy-User", "X-Proxy-Roles"}}, Backend: v}
}

func spnegoDomain(name string, challenge bool) Domain {
	return Domain{Name: name, Challenge: challenge, AuthenticatorType: "kerberos", Authenticator: spnegoExtractor(),
		Inputs: sdk.Inputs{Headers: []string{"Authorization"}}, ChallengeResponse: spnegoChallenge}
}

func extractCalls(d Domain) int { return int(d.Authenticator.(*fakeExtractor).calls.Load()) }

// request builds a request from "Name: value" header lines and an optional
// query string after a "?" entry, e.g. request("Authorization: Basic a:b", "?auth_type=anonymous").
func request(parts ...string) *sdk.Request {
	r := &sdk.Request{Method: "GET", Path: "/", Header: map[string][]string{}, Query: map[string][]string{},
		SocketAddress: "10.0.0.9:40000", ClientAddress: "10.0.0.9:40000"}
	for _, p := range parts {
		if q, ok := strings.CutPrefix(p, "?"); ok {
			k, v, _ := strings.Cut(q, "=")
			r.Query[k] = append(r.Query[k], v)
			continue
		}
		k, v, _ := strings.Cut(p, ": ")
		k = textproto.CanonicalMIMEHeaderKey(k)
		r.Header[k] = append(r.Header[k], v)
	}
	return r
}

var caller = Caller{IP: "10.0.0.9"}

// start builds a pipeline that the test closes when it ends.
func start(t testing.TB, cfg Config) *Pipeline {
	t.Helper()
	p := New(cfg)
	t.Cleanup(p.Close)
	return p
}

// ask authenticates r, failing the test if the answer takes longer than the guard.
func ask(t testing.TB, p *Pipeline, r *sdk.Request) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	return p.Authenticate(ctx, r, caller)
}

// waitFor polls cond until it holds, failing the test after the guard.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(guard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// blockedIn counts goroutines parked (not running) inside a function whose
// name contains fn, read from a full stack dump.
func blockedIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		header, _, _ := bytes.Cut(g, []byte("\n"))
		parked := !bytes.Contains(header, []byte("[running]")) && !bytes.Contains(header, []byte("[runnable]"))
		if parked && bytes.Contains(g, []byte(fn)) {
			count++
		}
	}
	return count
}

// gate is a fake backend call that holds every caller until released.
type gate struct {
	entered chan struct{} // receives once per caller that arrived
	release chan struct{}
	once    sync.Once
}

// open releases every caller, now and later; tests defer it so that a
// failing test never leaves Close waiting on a held call.
func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func newGate(capacity int) *gate {
	return &gate{entered: make(chan struct{}, capacity), release: make(chan struct{})}
}

func (g *gate) wait(ctx context.Context) error {
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("held at gate: %w", errors.Join(sdk.ErrUnavailable, ctx.Err()))
	}
}

// arrived waits until n callers reached the gate.
func (g *gate) arrived(t testing.TB, n int) {
	t.Helper()
	for range n {
		select {
		case <-g.entered:
		case <-time.After(guard):
			t.Fatal("gave up waiting for a caller at the gate")
		}
	}
}

// fakeVerifierFunc is a backend answering with fn.
type fakeVerifierFunc struct {
	calls atomic.Int32
	fn    func(c *sdk.Credentials) *sdk.User
}

func (f *fakeVerifierFunc) Authenticate(_ context.Context, c *sdk.Credentials) (*sdk.User, string, error) {
	f.calls.Add(1)
	return f.fn(c), "", nil
}
