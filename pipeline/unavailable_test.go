package pipeline

import (
	"context"
	"fmt"
	"testing"

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
