package pipeline

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/realmd/realmd/sdk"
)

func TestAnonymous(t *testing.T) {
	basicOnly := func() []Domain { return []Domain{basicDomain("basic", true, users())} }
	tests := []chainCase{
		{
			name:       "no Authorization header gives the anonymous user",
			domains:    basicOnly,
			anonymous:  true,
			req:        request(),
			want:       Authenticated,
			wantUser:   AnonymousUser,
			wantDomain: "",
			wantRoles:  []string{AnonymousBackendRole},
		},
		{
			name:       "auth_type=anonymous with an Authorization header no domain reads gives the anonymous user",
			domains:    basicOnly,
			anonymous:  true,
			req:        request("Authorization: Bearer abc", "?auth_type=anonymous"),
			want:       Authenticated,
			wantUser:   AnonymousUser,
			wantRoles:  []string{AnonymousBackendRole},
			wantDomain: "",
		},
		{
			name:       "auth_type=anonymous with good credentials authenticates the user",
			domains:    basicOnly,
			anonymous:  true,
			req:        request("Authorization: Basic alice:secret", "?auth_type=anonymous"),
			want:       Authenticated,
			wantUser:   "alice",
			wantDomain: "basic",
		},
		{
			name:          "auth_type=saml without credentials challenges",
			domains:       basicOnly,
			anonymous:     true,
			req:           request("?auth_type=saml"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			// OpenSearch's RestUtils keeps the last of a repeated parameter
			// (found by review: realmd read the first).
			name:          "a repeated auth_type is its last value",
			domains:       basicOnly,
			anonymous:     true,
			req:           request("?auth_type=anonymous", "?auth_type=saml"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:       "a repeated auth_type ending in anonymous asks for anonymous",
			domains:    basicOnly,
			anonymous:  true,
			req:        request("Authorization: Bearer abc", "?auth_type=saml", "?auth_type=anonymous"),
			want:       Authenticated,
			wantUser:   AnonymousUser,
			wantDomain: "",
			wantRoles:  []string{AnonymousBackendRole},
		},
		{
			name:          "an Authorization header no domain reads is not an anonymous login",
			domains:       basicOnly,
			anonymous:     true,
			req:           request("Authorization: Bearer abc"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "wrong credentials are never downgraded to anonymous",
			domains:       basicOnly,
			anonymous:     true,
			req:           request("Authorization: Basic alice:wrong"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "wrong credentials with auth_type=anonymous are never downgraded to anonymous",
			domains:       basicOnly,
			anonymous:     true,
			req:           request("Authorization: Basic alice:wrong", "?auth_type=anonymous"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "malformed credentials with auth_type=anonymous are never downgraded to anonymous",
			domains:       basicOnly,
			anonymous:     true,
			req:           request("Authorization: Basic no-colon", "?auth_type=anonymous"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name: "rejected credentials outside the Authorization header are never downgraded to anonymous",
			domains: func() []Domain {
				return []Domain{proxyDomain("proxy", false, users()), basicDomain("basic", true, users())}
			},
			anonymous:     true,
			req:           request("X-Proxy-User: mallory"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "anonymous disabled: no credentials get the challenge",
			domains:       basicOnly,
			anonymous:     false,
			req:           request(),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
		{
			name:          "anonymous disabled: auth_type=anonymous is ignored",
			domains:       basicOnly,
			anonymous:     false,
			req:           request("?auth_type=anonymous"),
			want:          Challenged,
			wantChallenge: basicChallenge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runChainCase(t, tt) })
	}
}

func TestAnonymous_SkipsAuthzAndMapsItsBackendRole(t *testing.T) {
	authz := &fakeGranter{grant: &sdk.Grant{BackendRoles: []string{"from_ldap"}, CacheTTL: sdk.CacheForever}}
	mapper, err := NewRoleMapper(MapperConfig{Mappings: []Mapping{
		{Role: "anonymous_reader", BackendRoles: []string{AnonymousBackendRole}},
		{Role: "ldap_reader", BackendRoles: []string{"from_ldap"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p := start(t, Config{
		Domains:   []Domain{basicDomain("basic", true, users())},
		Authz:     []AuthzDomain{{Name: "ldap", Backend: authz}},
		Anonymous: true,
		Mapper:    mapper,
		CacheTTL:  sdk.CacheForever,
	})
	for range 2 {
		got := ask(t, p, request())
		if got.Outcome != Authenticated || got.Cached {
			t.Fatalf("outcome = %v cached %v, want an uncached anonymous identity", got.Outcome, got.Cached)
		}
		if !slices.Equal(got.Identity.Roles, []string{"anonymous_reader"}) {
			t.Errorf("roles = %q, want [anonymous_reader]", got.Identity.Roles)
		}
		if got.Identity.User.LoginName != AnonymousUser || len(got.Identity.User.Attributes) != 0 {
			t.Errorf("user = %+v, want the bare anonymous user", got.Identity.User)
		}
	}
	if n := authz.calls.Load(); n != 0 {
		t.Errorf("authorizer called %d times for the anonymous user, want 0", n)
	}
}

// A realm that fails on a request (a panicking realm answers ErrInternal,
// an unprovisioned key set ErrNotConfigured) may have been looking at its
// credentials: the request never becomes the anonymous user (found by
// review).
func TestAnonymous_ARealmsFailureIsNeverAnonymous(t *testing.T) {
	boom := &fakeExtractor{fn: func(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
		if r.QueryValue("token") == "" {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: realm panicked: index out of range", sdk.ErrInternal)
	}}
	jwt := Domain{Name: "jwt", Challenge: false, AuthenticatorType: "jwt", Authenticator: boom, Inputs: sdk.Inputs{Query: []string{"token"}}}
	p := start(t, Config{Domains: []Domain{jwt}, Anonymous: true})
	r := ask(t, p, request("?token=eyJhbGciOi.crafted.sig"))
	if r.Outcome == Authenticated {
		t.Errorf("a request carrying a token its realm could not process: authenticated as %q, want 503 or 401", r.Identity.User.Name)
	}
}
