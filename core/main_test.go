package core

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/plugins/basic"
	"github.com/realmd/realmd/plugins/jwt"
	"github.com/realmd/realmd/sdk"
)

// The test binary doubles as a fake plugin: re-executed with fakeEnv set, it
// serves fakePlugin instead of running tests.
const fakeEnv = "REALMD_CORE_FAKE_PLUGIN"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) != "" {
		sdk.Serve(fakePlugin())
		os.Exit(0)
	}
	// Started as `plugin NAME`, the way realmd starts a built-in (the test
	// binary is the Executable of testBuiltins).
	if len(os.Args) == 3 && os.Args[1] == "plugin" {
		for _, p := range testBuiltins() {
			if p.Name == os.Args[2] {
				sdk.Serve(p)
				os.Exit(0)
			}
		}
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// testBuiltins are the real built-in realms that tests run through the
// test binary as their Executable.
func testBuiltins() []sdk.Plugin { return []sdk.Plugin{basic.Plugin(), jwt.Plugin()} }

// fakeAuthn finds the user named in X-User, after waiting the duration in
// X-Sleep, if any (a slow realm). X-Raw instead logs in user "raw" with the
// header's bytes, in hex, as attribute raw.hex.
type fakeAuthn struct{}

func (fakeAuthn) Inputs() sdk.Inputs {
	return sdk.Inputs{Headers: []string{"X-User", "X-Raw", "X-Sleep"}}
}
func (fakeAuthn) Challenge() sdk.Challenge {
	return sdk.Challenge{WWWAuthenticate: `Fake realm="test"`}
}
func (fakeAuthn) Extract(ctx context.Context, r *sdk.Request) (*sdk.Credentials, error) {
	if d, err := time.ParseDuration(r.HeaderValue("X-Sleep")); err == nil {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if raw := r.HeaderValue("X-Raw"); raw != "" {
		return &sdk.Credentials{Username: "raw", Attributes: map[string]string{"raw.hex": hex.EncodeToString([]byte(raw))}}, nil
	}
	u := r.HeaderValue("X-User")
	if u == "" {
		return nil, nil
	}
	return &sdk.Credentials{Username: u, BackendRoles: []string{"fake"}, CacheTTL: sdk.CacheForever}, nil
}

// editingAuthn loads its CA file in Provision, as realms do, and then
// writes next into it: an edit that lands after the plugin read the file
// but before Configure has returned to realmd. next "unique" writes new
// content every time: a plugin that rewrites a file it depends on.
type editingAuthn struct {
	fakeAuthn
	ca, next string
}

func (a *editingAuthn) Provision(context.Context) error {
	if _, err := sdk.ReadFile(a.ca); err != nil {
		return err
	}
	next := a.next
	if next == "unique" {
		next = strconv.FormatInt(time.Now().UnixNano(), 10)
	}
	return os.WriteFile(a.ca, []byte(next), 0o600)
}

func fakePlugin() sdk.Plugin {
	return sdk.Plugin{Name: "fake", Version: "0", Authenticators: map[string]sdk.Factory[sdk.Authenticator]{
		"fake": func(cfg *sdk.Config) (sdk.Authenticator, error) {
			if cfg.Bool("refuse", false) {
				cfg.Problem("refuse", "refused on purpose")
			}
			ca := cfg.Path("ca_file", "") // a file the instance depends on
			if next := cfg.String("edit_ca_to", ""); next != "" {
				return &editingAuthn{ca: ca, next: next}, nil
			}
			return fakeAuthn{}, nil
		},
	}}
}

// fakeRef starts the test binary as the fake plugin.
func fakeRef(t *testing.T) PluginRef {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return PluginRef{Name: "fake", Path: exe, Args: []string{"-test.run=^$"}, Env: []string{fakeEnv + "=1"}}
}

func fakeSpec(t *testing.T, config string) InstanceSpec {
	return InstanceSpec{Name: "authc.test.http_authenticator", Role: sdk.RoleAuthenticator, Type: "fake", Plugin: fakeRef(t), Config: []byte(config)}
}

func isUnavailable(err error) bool { return errors.Is(err, sdk.ErrUnavailable) }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
