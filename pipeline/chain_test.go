package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/realmd/realmd/sdk"
)

// chainCase is one request through an ordered list of authc domains.
type chainCase struct {
	name      string
	domains   func() []Domain
	anonymous bool
	req       *sdk.Request

	want          Outcome
	wantChallenge sdk.Challenge // for Challenged
	wantUser      string        // for Authenticated
	wantDomain    string        // for Authenticated
	wantRoles     []string      // backend roles, for Authenticated
	wantUnavail   []string
	// wantExtracts is how often each domain's authenticator was asked; nil
	// skips the check.
	wantExtracts []int
}

func TestChain(t *testing.T) {
	tests := []chainCase{
		{
			name:         "first domain that authenticates wins and later domains are never asked",
			domains:      func() []Domain { return []Domain{basicDomain("one", true, users()), basicDomain("two", true, users())} },
			req:          request("Authorization: Basic alice:secret"),
			want:         Authenticated,
			wantUser:     "alice",
			wantDomain:   "one",
			wantRoles:    []string{"admins"},
			wantExtracts: []int{1, 0},
		},
		{
			name: "credentials rejected by one domain are tried by the next",
			domains: func() []Domain {
				other := users()
				other.passwords = map[string]string{"alice": "other"}
				return []Domain{basicDomain("one", true, users()), basicDomain("two", true, other)}
			},
			req:          request("Authorization: Basic alice:other"),
			want:         Authenticated,
			wantUser:     "alice",
			wantDomain:   "two",
			wantExtracts: []int{1, 1},
		},
		{
			name: "domains are asked in the order given: proxy before basic wins over wrong basic",
			domains: func() []Domain {
				return []Domain{proxyDomain("proxy", false, nil), basicDomain("basic", true, users())}
			},
			req:          request("Authorization: Basic alice:wrong", "X-Proxy-User: carol"),
			want:         Authenticated,
			wantUser:     "carol",
			wantDomain:   "proxy",
			wantExtracts: []int{1, 0},
		},
		{
			name: "domains are asked in the order given: basic before proxy wins",
			domains: func() []Domain {
				return []Domain{basicDomain("basic", true, users()), proxyDomain("proxy", false, nil)}
			},
			req:          request("Authorization: Basic alice:secret", "X-Proxy-User: carol"),
			want:         Authenticated,
			wantUser:     "alice",
			wantDomain:   "basic",
			wantExtracts: []int{1, 0},
		},
		{
			name:          "no credentials and a challenging basic domain challenge at once; later domains are never asked",
			domains:       func() []Domain { return []Domain{basicDomain("basic", true, users()), bearerDomain("jwt", true)} },
			req:           request(),
			want:          Challenged,
			wantChallenge: basicChallenge,
			wantExtracts:  []int{1, 0},
		},
		{
			name:          "a challenging domain that cannot challenge falls through to the next",
			domains:       func() []Domain { return []Domain{proxyDomain("proxy", true, nil), basicDomain("basic", true, users())} },
			req:           request(),
			want:          Challenged,
			wantChallenge: basicChallenge,
			wantExtracts:  []int{1, 1},
		},
		{
			name:          "challenge false with no credentials skips the domain: 401 without WWW-Authenticate",
			domains:       func() []Domain { return []Domain{basicDomain("basic", false, users())} },
			req:           request(),
			want:          Challenged,
			wantChallenge: finalFailure,
			wantExtracts:  []int{1},
		},
		{
			name:          "challenge false is skipped and a later challenging domain answers",
			domains:       func() []Domain { return []Domain{basicDomain("basic", false, users()), bearerDomain("jwt", true)} },
			req:           request(),
			want:          Challenged,
			wantChallenge: bearerChallenge,
			wantExtracts:  []int{1, 1},
		},
		{
			name: "malformed credentials skip the domain",
			domains: func() []Domain {
				return []Domain{basicDomain("basic", true, users()), proxyDomain("proxy", false, nil)}
			},
			req:          request("Authorization: Basic wrongheader", "X-Proxy-User: carol"),
			want:         Authenticated,
			wantUser:     "carol",
			wantDomain:   "proxy",
			wantExtracts: []int{1, 1},
		},
		{
			name:          "malformed credentials alone end with the first challenging domain's challenge",
			domains:       func() []Domain { return []Domain{basicDomain("basic", true, users())} },
			req:           request("Authorization: Basic wrongheader"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name: "an extraction failure that is neither malformed nor unavailable skips the domain",
			domains: func() []Domain {
				broken := basicDomain("broken", false, users())
				broken.Authenticator = &fakeExtractor{fn: func(context.Context, *sdk.Request) (*sdk.Credentials, error) { return nil, fmt.Errorf("nil map: bug") }}
				return []Domain{broken, proxyDomain("proxy", false, nil)}
			},
			req:        request("X-Proxy-User: carol"),
			want:       Authenticated,
			wantUser:   "carol",
			wantDomain: "proxy",
		},
		{
			name: "credentials without a user name are malformed: the domain is skipped, as OpenSearch's AuthCredentials refuses them",
			domains: func() []Domain {
				return []Domain{bearerDomain("jwt", false), basicDomain("basic", true, users())}
			},
			req:           request("Authorization: Bearer ;admins"),
			want:          Challenged,
			wantChallenge: basicChallenge,
			wantExtracts:  []int{1, 1},
		},
		{
			name: "a backend's user without a name rejects the credentials",
			domains: func() []Domain {
				nameless := &fakeVerifierFunc{fn: func(*sdk.Credentials) *sdk.User { return &sdk.User{CacheTTL: sdk.CacheForever} }}
				return []Domain{basicDomain("basic", true, nameless)}
			},
			req:           request("Authorization: Basic alice:secret"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "wrong password gets the basic challenge",
			domains:       func() []Domain { return []Domain{basicDomain("basic", true, users())} },
			req:           request("Authorization: Basic alice:wrong"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "unknown user gets the basic challenge",
			domains:       func() []Domain { return []Domain{basicDomain("basic", true, users())} },
			req:           request("Authorization: Basic mallory:secret"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "bad credentials answer with the first challenging domain even when it cannot challenge",
			domains:       func() []Domain { return []Domain{proxyDomain("proxy", true, nil), basicDomain("basic", true, users())} },
			req:           request("Authorization: Basic alice:wrong"),
			want:          Challenged,
			wantChallenge: finalFailure,
			wantExtracts:  []int{1, 1},
		},
		{
			name: "bad credentials skip non-challenging domains when choosing the challenge",
			domains: func() []Domain {
				return []Domain{proxyDomain("proxy", false, nil), basicDomain("basic", true, users())}
			},
			req:           request("Authorization: Basic alice:wrong"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "basic credentials to a chain without basic get the bearer challenge",
			domains:       func() []Domain { return []Domain{bearerDomain("jwt", true)} },
			req:           request("Authorization: Basic alice:secret"),
			want:          Challenged,
			wantChallenge: bearerChallenge,
		},
		{
			name:          "an unfinished SPNEGO handshake answers 401 with the continuation token",
			domains:       func() []Domain { return []Domain{spnegoDomain("kerberos", true), basicDomain("basic", true, users())} },
			req:           request("Authorization: Negotiate step"),
			want:          Challenged,
			wantChallenge: sdk.Challenge{WWWAuthenticate: "Negotiate c2VydmVy", Body: negotiateBody, ContentType: "application/json"},
			wantExtracts:  []int{1, 0},
		},
		{
			name:         "a finished SPNEGO handshake authenticates",
			domains:      func() []Domain { return []Domain{spnegoDomain("kerberos", true)} },
			req:          request("Authorization: Negotiate HTTP/host@EXAMPLE.COM"),
			want:         Authenticated,
			wantUser:     "HTTP/host@EXAMPLE.COM",
			wantDomain:   "kerberos",
			wantExtracts: []int{1},
		},
		{
			name:       "the noop backend takes the user and roles from the credentials",
			domains:    func() []Domain { return []Domain{proxyDomain("proxy", true, nil)} },
			req:        request("X-Proxy-User: carol", "X-Proxy-Roles: ops,dev"),
			want:       Authenticated,
			wantUser:   "carol",
			wantDomain: "proxy",
			wantRoles:  []string{"ops", "dev"},
		},
		{
			name:          "no domains at all end with 401 Authentication finally failed",
			domains:       func() []Domain { return nil },
			req:           request("Authorization: Basic alice:secret"),
			want:          Challenged,
			wantChallenge: finalFailure,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runChainCase(t, tt) })
	}
}

func runChainCase(t *testing.T, tt chainCase) {
	t.Helper()
	domains := tt.domains()
	p := start(t, Config{Domains: domains, Anonymous: tt.anonymous, CacheTTL: 0})
	got := ask(t, p, tt.req)
	if got.Outcome != tt.want {
		t.Fatalf("outcome = %v (challenge %+v, unavailable %v), want %v", got.Outcome, got.Challenge, got.Unavailable, tt.want)
	}
	switch tt.want {
	case Challenged:
		if got.Challenge != tt.wantChallenge {
			t.Errorf("challenge = %+v, want %+v", got.Challenge, tt.wantChallenge)
		}
		if got.Identity != nil {
			t.Errorf("identity = %+v on a challenge", got.Identity)
		}
	case Authenticated:
		if got.Identity == nil {
			t.Fatal("no identity")
		}
		if got.Identity.User.Name != tt.wantUser || got.Identity.Domain != tt.wantDomain {
			t.Errorf("user %q from domain %q, want %q from %q", got.Identity.User.Name, got.Identity.Domain, tt.wantUser, tt.wantDomain)
		}
		if tt.wantRoles != nil && !slices.Equal(got.Identity.User.BackendRoles, tt.wantRoles) {
			t.Errorf("backend roles = %q, want %q", got.Identity.User.BackendRoles, tt.wantRoles)
		}
	}
	if !slices.Equal(got.Unavailable, tt.wantUnavail) {
		t.Errorf("unavailable = %q, want %q", got.Unavailable, tt.wantUnavail)
	}
	if tt.wantExtracts != nil {
		calls := make([]int, len(domains))
		for i, d := range domains {
			calls[i] = extractCalls(d)
		}
		if !slices.Equal(calls, tt.wantExtracts) {
			t.Errorf("extract calls per domain = %v, want %v", calls, tt.wantExtracts)
		}
	}
}

func TestChain_NoopBackendIdentity(t *testing.T) {
	p := start(t, Config{Domains: []Domain{proxyDomain("proxy", false, nil)}})
	got := ask(t, p, request("X-Proxy-User: carol"))
	if got.Outcome != Authenticated {
		t.Fatalf("outcome = %v", got.Outcome)
	}
	id := got.Identity
	if id.User.LoginName != "carol" || id.Authenticator != "proxy" || id.Domain != "proxy" {
		t.Errorf("identity = %+v, want login name carol via proxy authenticator of domain proxy", id)
	}
}

func TestChain_BackendKeepsItsLoginName(t *testing.T) {
	dn := &fakeVerifierFunc{fn: func(c *sdk.Credentials) *sdk.User {
		return &sdk.User{Name: "cn=" + c.Username + ",dc=example", CacheTTL: sdk.CacheForever}
	}}
	p := start(t, Config{Domains: []Domain{basicDomain("ldap", true, dn)}})
	got := ask(t, p, request("Authorization: Basic alice:x"))
	if got.Outcome != Authenticated {
		t.Fatalf("outcome = %v", got.Outcome)
	}
	if got.Identity.User.Name != "cn=alice,dc=example" || got.Identity.User.LoginName != "alice" {
		t.Errorf("user %q login %q, want the DN and the presented name", got.Identity.User.Name, got.Identity.User.LoginName)
	}
}

// distinct keeps first occurrences in order, scanning short lists and
// using a set for long ones, and hands back s itself when nothing repeats.
func TestDistinct(t *testing.T) {
	long := make([]string, 40)
	for i := range long {
		long[i] = fmt.Sprintf("r%d", i%25) // r0..r24, then r0..r14 again
	}
	wantLong := long[:25]
	for _, tt := range []struct {
		in, want []string
	}{
		{nil, nil},
		{[]string{"a"}, []string{"a"}},
		{[]string{"a", "b", "a", "c", "b"}, []string{"a", "b", "c"}},
		{[]string{"a", "a"}, []string{"a"}},
		{long, wantLong},
	} {
		in := slices.Clone(tt.in)
		if got := distinct(in); !slices.Equal(got, tt.want) {
			t.Errorf("distinct(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("distinct modified its input: %q", in)
		}
	}
	noRepeats := []string{"a", "b", "c"}
	if got := distinct(noRepeats); &got[0] != &noRepeats[0] {
		t.Error("distinct copied a list without repeats")
	}
}

// realmd decides on the names it sends: a user name or role that would
// change on its way through a header (Go trims spaces at the ends and turns
// CR and LF into spaces; proxies refuse or pass on other control
// characters) is refused or dropped before role mapping (found by review:
// " admin" was mapped as " admin" and sent as "admin").
func TestChain_NamesThatCannotTravelInAHeader(t *testing.T) {
	named := func(name string, roles ...string) *fakeVerifierFunc {
		return &fakeVerifierFunc{fn: func(*sdk.Credentials) *sdk.User {
			return &sdk.User{Name: name, BackendRoles: roles, CacheTTL: sdk.CacheForever}
		}}
	}
	for _, name := range []string{" admin", "admin\t", "ad\nmin", "ad\rmin", "ad\x00min", "ad\x1bmin", "ad\x7fmin", "ad\xffmin"} {
		p := start(t, Config{Domains: []Domain{basicDomain("b", true, named(name))}})
		if got := ask(t, p, request("Authorization: Basic alice:x")); got.Outcome == Authenticated {
			t.Errorf("user name %q authenticated, want it refused", name)
		}
	}
	mapper, err := NewRoleMapper(MapperConfig{Mode: Both, Mappings: []Mapping{{Role: "all_access", BackendRoles: []string{" admin", "admin"}}}})
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, Config{Mapper: mapper, Domains: []Domain{basicDomain("b", true,
		named("alice", "ok", " admin", "", "x\ny", "bad\xff", "ok2 "))}})
	got := ask(t, p, request("Authorization: Basic alice:x"))
	if got.Outcome != Authenticated {
		t.Fatalf("outcome = %v", got.Outcome)
	}
	if !slices.Equal(got.Identity.User.BackendRoles, []string{"ok"}) || slices.Contains(got.Identity.Roles, "all_access") {
		t.Errorf("backend roles %q, roles %q; want only ok, and no all_access from \" admin\"", got.Identity.User.BackendRoles, got.Identity.Roles)
	}
}

// infoLogger is a logger at info level (IsDebug is false) that counts the
// debug lines still sent to it.
type infoLogger struct {
	lineLogger
	debugs atomic.Int32
}

func (l *infoLogger) IsDebug() bool        { return false }
func (l *infoLogger) Debug(string, ...any) { l.debugs.Add(1) }

// The chain's debug lines (no credentials, malformed or rejected
// credentials, a blocked user name, roles not retrieved) are built only
// when the logger writes debug lines: with debug off, a request that
// meets them neither formats its error nor builds fields, and a malformed
// credential's skip allocates nothing (found by review: every such request
// formatted the error for a line that was dropped).
func TestChain_DebugLinesAreBuiltOnlyWhenDebugIsOn(t *testing.T) {
	logs := &infoLogger{}
	g := &fakeGranter{err: errors.Join(sdk.ErrInternal, errors.New("ldap: result code 1"))}
	p, _ := limited(t, Config{Domains: []Domain{internalDomain()}, Authz: []AuthzDomain{{Name: "ldapz", Backend: g}},
		Limits: []FailureLimit{userLimit("internal", 1)}, Logger: logs})
	for _, header := range []string{
		"X-Other: x",                       // no credentials
		"Authorization: Basic alice",       // malformed
		goodLogin,                          // roles not retrieved
		"Authorization: Basic bob:wrong",   // rejected; blocks bob
		"Authorization: Basic bob:hunter2", // a blocked user name
	} {
		ask(t, p, request(header))
	}
	if n := logs.debugs.Load(); n != 0 {
		t.Errorf("%d debug lines sent to a logger at info level, want 0", n)
	}
	j := &job{}
	malformed := errors.Join(sdk.ErrMalformed, errors.New("illegal base64 data at input byte 4"))
	if n := testing.AllocsPerRun(100, func() { p.skip(j, 0, extracting, malformed) }); n != 0 {
		t.Errorf("skipping malformed credentials with debug off allocates %v times, want 0", n)
	}
}
