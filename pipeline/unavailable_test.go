package pipeline

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

func down() *fakeVerifier {
	v := users()
	v.err = errDirectoryDown
	return v
}

func TestUnavailable(t *testing.T) {
	tests := []chainCase{
		{
			name:        "a backend that is down and no other domain: unavailable, not a challenge",
			domains:     func() []Domain { return []Domain{basicDomain("ldap", true, down())} },
			req:         request("Authorization: Basic alice:secret"),
			want:        Unavailable,
			wantUnavail: []string{"ldap"},
		},
		{
			name:        "an authenticator that is down: unavailable",
			domains:     func() []Domain { return []Domain{bearerDomain("oidc", true)} },
			req:         request("Authorization: Bearer down"),
			want:        Unavailable,
			wantUnavail: []string{"oidc"},
		},
		{
			name: "every unavailable domain is named, in order",
			domains: func() []Domain {
				return []Domain{basicDomain("ldap1", true, down()), basicDomain("ldap2", true, down())}
			},
			req:          request("Authorization: Basic alice:secret"),
			want:         Unavailable,
			wantUnavail:  []string{"ldap1", "ldap2"},
			wantExtracts: []int{1, 1},
		},
		{
			name: "unavailable beats rejected credentials in another domain",
			domains: func() []Domain {
				return []Domain{basicDomain("internal", true, users()), basicDomain("ldap", true, down())}
			},
			req:         request("Authorization: Basic alice:wrong"),
			want:        Unavailable,
			wantUnavail: []string{"ldap"},
		},
		{
			name: "an unavailable domain followed by one that authenticates: authenticated, unavailable still named",
			domains: func() []Domain {
				return []Domain{bearerDomain("oidc", true), proxyDomain("proxy", false, nil)}
			},
			req:          request("Authorization: Bearer down", "X-Proxy-User: carol"),
			want:         Authenticated,
			wantUser:     "carol",
			wantDomain:   "proxy",
			wantUnavail:  []string{"oidc"},
			wantExtracts: []int{1, 1},
		},
		{
			name: "an unavailable domain before one that would challenge: unavailable, not a challenge",
			domains: func() []Domain {
				return []Domain{basicDomain("ldap", true, down()), spnegoDomain("kerberos", true)}
			},
			req:          request("Authorization: Basic alice:secret"),
			want:         Unavailable,
			wantUnavail:  []string{"ldap"},
			wantExtracts: []int{1, 1},
		},
		{
			name: "an anonymous login while an authenticator is down: unavailable, not anonymous",
			domains: func() []Domain {
				restarting := proxyDomain("proxy", false, nil)
				restarting.Authenticator = &fakeExtractor{fn: func(context.Context, *sdk.Request) (*sdk.Credentials, error) {
					return nil, fmt.Errorf("plugin restarting: %w", sdk.ErrUnavailable)
				}}
				return []Domain{restarting, basicDomain("basic", true, users())}
			},
			anonymous:   true,
			req:         request("X-Proxy-User: carol"),
			want:        Unavailable,
			wantUnavail: []string{"proxy"},
		},
		{
			name: "malformed credentials are not unavailability",
			domains: func() []Domain {
				return []Domain{basicDomain("basic", true, users())}
			},
			req:           request("Authorization: Basic nocolon"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name: "a backend failure that is not unavailability ends in 401",
			domains: func() []Domain {
				v := users()
				v.err = sdk.ErrInternal
				return []Domain{basicDomain("basic", true, v)}
			},
			req:           request("Authorization: Basic alice:secret"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runChainCase(t, tt) })
	}
}

func TestUnavailable_AuthenticatedAnswerIsNotCached(t *testing.T) {
	domains := []Domain{bearerDomain("oidc", true), proxyDomain("proxy", false, nil)}
	p := start(t, Config{Domains: domains, CacheTTL: sdk.CacheForever})
	for i := range 2 {
		got := ask(t, p, request("Authorization: Bearer down", "X-Proxy-User: carol"))
		if got.Outcome != Authenticated || got.Cached {
			t.Fatalf("request %d: outcome %v cached %v, want a fresh authentication", i, got.Outcome, got.Cached)
		}
	}
	if n := extractCalls(domains[1]); n != 2 {
		t.Errorf("proxy extract calls = %d, want 2 (no cache hit)", n)
	}
	if n := p.CacheLen(); n != 0 {
		t.Errorf("cache holds %d entries, want 0", n)
	}
}

// lineLogger records the pipeline's info and warning lines.
type lineLogger struct {
	mu    sync.Mutex
	lines []string // "message key=value ..."
}

func (l *lineLogger) IsDebug() bool                { return false }
func (l *lineLogger) Debug(string, ...any)         {}
func (l *lineLogger) Info(msg string, args ...any) { l.add(msg, args) }
func (l *lineLogger) Warn(msg string, args ...any) { l.add(msg, args) }

func (l *lineLogger) add(msg string, args []any) {
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] != "error" {
			msg += fmt.Sprintf(" %v=%v", args[i], args[i+1])
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, msg)
}

// take returns the lines logged since the last take.
func (l *lineLogger) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	l.lines = nil
	return lines
}

// TestUnavailable_LogsAnOutageNotEveryRequest: a plugin that restarts
// under traffic once logged a warning per request (14,451 lines in 3 s).
func TestUnavailable_LogsAnOutageNotEveryRequest(t *testing.T) {
	const requests, clients = 512, 32
	step := `domain=ldap step=verifying credentials`
	tests := []struct {
		name  string
		steps []func(*fakeVerifier, *fakeClock) // each followed by requests requests
		want  [][]string                        // the lines after each step
	}{
		{
			name: "unavailable: one line when it starts and one with the count when it ends",
			steps: []func(*fakeVerifier, *fakeClock){
				func(v *fakeVerifier, _ *fakeClock) { v.err = errDirectoryDown },
				func(v *fakeVerifier, _ *fakeClock) { v.err = nil },
				func(v *fakeVerifier, _ *fakeClock) { v.err = errDirectoryDown },
				func(v *fakeVerifier, c *fakeClock) { c.advance(warnEvery) },
				func(v *fakeVerifier, c *fakeClock) { v.err = nil },
			},
			want: [][]string{
				{"domain unavailable " + step},
				{"domain answers again " + step + fmt.Sprintf(" unavailable=%d failed=0", requests-1)},
				nil, // within warnEvery of the last line: counted only
				{"domain unavailable " + step + fmt.Sprintf(" suppressed=%d", requests)},
				{"domain answers again " + step + fmt.Sprintf(" unavailable=%d failed=0", requests-1)},
			},
		},
		{
			name: "failed: one line per interval",
			steps: []func(*fakeVerifier, *fakeClock){
				func(v *fakeVerifier, _ *fakeClock) { v.err = sdk.ErrInternal },
				func(v *fakeVerifier, c *fakeClock) { c.advance(warnEvery) },
			},
			want: [][]string{
				{"domain failed " + step},
				{"domain failed " + step + fmt.Sprintf(" suppressed=%d", requests-1)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &lineLogger{}
			v := users()
			p := start(t, Config{Domains: []Domain{basicDomain("ldap", true, v)}, Logger: logs})
			clock := clockAt(time.Unix(1e9, 0))
			p.now = clock.now
			for n, step := range tt.steps {
				step(v, clock)
				var wg sync.WaitGroup
				for range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range requests / clients {
							ask(t, p, request("Authorization: Basic alice:secret"))
						}
					}()
				}
				wg.Wait()
				if got := logs.take(); !slices.Equal(got, tt.want[n]) {
					t.Errorf("after step %d: lines\n%q\nwant\n%q", n, got, tt.want[n])
				}
			}
		})
	}
}

// An authorization backend that is down logs its outage, not a line per
// request, as a domain's steps do (found by review: "cannot retrieve roles"
// was a warning per request).
func TestUnavailable_AuthzLogsAnOutageNotEveryRequest(t *testing.T) {
	const requests = 64
	logs := &lineLogger{}
	g := &fakeGranter{grant: &sdk.Grant{BackendRoles: []string{"readers"}}}
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, users())}, Authz: []AuthzDomain{{Name: "ldapz", Backend: g}}, Logger: logs})
	clock := clockAt(time.Unix(1e9, 0))
	p.now = clock.now
	step := "authz=ldapz step=retrieving roles"
	for n, tt := range []struct {
		err  error
		want []string
	}{
		{errDirectoryDown, []string{"domain unavailable " + step}},
		{nil, []string{"domain answers again " + step + fmt.Sprintf(" unavailable=%d failed=0", requests-1)}},
		{sdk.ErrInternal, []string{"domain failed " + step}},
	} {
		g.err = tt.err
		for range requests {
			if r := ask(t, p, request("Authorization: Basic alice:secret")); r.Outcome != Authenticated {
				t.Fatalf("outcome %v, want the user without the backend's roles", r.Outcome)
			}
		}
		if got := logs.take(); !slices.Equal(got, tt.want) {
			t.Errorf("step %d: lines\n%q\nwant\n%q", n, got, tt.want)
		}
	}
}
