package realmtest_test

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/realmd/realmd/sdk"
)

// fakePlugin is a tiny plugin that serves type "fake" in every role. The
// backend warns about a short password, the authorizer about the config as
// a whole. A variant other than "" plants one bug, to show that the kit
// catches it.
func fakePlugin(variant string) sdk.Plugin {
	p := sdk.Plugin{
		Name:    "fake",
		Version: "0.1.0",
		Authenticators: map[string]sdk.Factory[sdk.Authenticator]{
			"fake": func(cfg *sdk.Config) (sdk.Authenticator, error) {
				if variant == "noisy" {
					cfg.Warn("header", "is unexpectedly warned about")
				}
				return &fakeAuthenticator{header: cfg.String("header", "X-User"), variant: variant}, nil
			},
		},
		Backends: map[string]sdk.Factory[sdk.Backend]{
			"fake": func(cfg *sdk.Config) (sdk.Backend, error) {
				// realmd always passes its config directory; a relative
				// password_file resolves against it.
				if !filepath.IsAbs(cfg.Dir()) {
					cfg.Problem("", "config directory %q is not absolute", cfg.Dir())
				}
				b := &fakeBackend{password: []byte(cfg.String("password", "")), nameless: variant == "nameless"}
				key := "password"
				if f := cfg.Path("password_file", ""); f != "" {
					pw, err := os.ReadFile(f)
					if err != nil {
						cfg.Problem("password_file", "%v", err)
					}
					b.password, key = bytes.TrimSpace(pw), "password_file"
				}
				if len(b.password) == 0 {
					cfg.Problem("password", "is required")
				} else if len(b.password) < 8 && variant != "quiet" {
					cfg.Warn(key, "is shorter than 8 characters")
				}
				if variant == "lax-config" {
					cfg.IgnorePrefix("realmtest_unknown_key")
				}
				return b, nil
			},
		},
		Authorizers: map[string]sdk.Factory[sdk.Authorizer]{
			"fake": func(cfg *sdk.Config) (sdk.Authorizer, error) {
				if variant != "quiet" {
					cfg.Warn("", "grants every user a role named after them")
				}
				return &fakeAuthorizer{shared: variant == "shared-state", racy: variant == "racy"}, nil
			},
		},
	}
	if variant == "unserved" {
		delete(p.Authorizers, "fake")
	}
	return p
}

type fakeAuthenticator struct {
	header  string
	variant string
}

func (a *fakeAuthenticator) Inputs() sdk.Inputs {
	if a.variant == "undeclared-input" {
		return sdk.Inputs{}
	}
	return sdk.Inputs{Headers: []string{a.header}}
}

func (a *fakeAuthenticator) Extract(_ context.Context, r *sdk.Request) (*sdk.Credentials, error) {
	switch v := r.HeaderValue(a.header); v {
	case "":
		return nil, nil
	case "!":
		return nil, fmt.Errorf("reading %s: %w", a.header, sdk.ErrMalformed)
	case "bob":
		if a.variant == "nameless" {
			return &sdk.Credentials{CacheTTL: sdk.CacheForever}, nil
		}
		fallthrough
	default:
		return &sdk.Credentials{Username: v, CacheTTL: sdk.CacheForever}, nil
	}
}

func (a *fakeAuthenticator) Challenge() sdk.Challenge {
	return sdk.Challenge{WWWAuthenticate: "Fake", Body: "who are you?", ContentType: "text/plain"}
}

// fakeBackend accepts every user with its password. With nameless set it
// answers bob with a user without a name.
type fakeBackend struct {
	password []byte
	nameless bool
}

func (b *fakeBackend) Authenticate(_ context.Context, c *sdk.Credentials) (*sdk.User, error) {
	if c.Username == "down" {
		return nil, fmt.Errorf("directory: %w", sdk.ErrUnavailable)
	}
	if subtle.ConstantTimeCompare(c.Password, b.password) != 1 {
		return nil, nil
	}
	if b.nameless && c.Username == "bob" {
		return &sdk.User{BackendRoles: []string{"role-bob"}, CacheTTL: time.Minute}, nil
	}
	return &sdk.User{Name: c.Username, BackendRoles: []string{"role-" + c.Username}, LoginName: c.Username, CacheTTL: time.Minute}, nil
}

// fakeAuthorizer grants "grant-<name>". With shared set it keeps the name in
// shared state across calls, a bug only concurrent calls reveal; with racy
// set it counts calls without a lock, a data race.
type fakeAuthorizer struct {
	shared bool
	mu     sync.Mutex
	last   string

	racy  bool
	calls int // written without the lock when racy
}

func (a *fakeAuthorizer) Authorize(_ context.Context, u *sdk.User) (*sdk.Grant, error) {
	name := u.Name
	if a.racy {
		a.calls++
		time.Sleep(20 * time.Millisecond) // so that calls overlap: no reply orders them
	}
	if a.shared {
		a.mu.Lock()
		a.last = name
		a.mu.Unlock()
		time.Sleep(20 * time.Millisecond) // let other calls overwrite it
		a.mu.Lock()
		name = a.last
		a.mu.Unlock()
	}
	if name == "nobody" {
		return &sdk.Grant{}, nil
	}
	return &sdk.Grant{BackendRoles: []string{"grant-" + name}, Attributes: map[string]string{"attr.fake.name": name}}, nil
}

// Interface guards
var (
	_ sdk.Authenticator = (*fakeAuthenticator)(nil)
	_ sdk.Challenger    = (*fakeAuthenticator)(nil)
	_ sdk.Backend       = (*fakeBackend)(nil)
	_ sdk.Authorizer    = (*fakeAuthorizer)(nil)
)
