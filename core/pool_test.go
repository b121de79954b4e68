package core

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// caCheckEnv makes the test binary serve caCheckPlugin instead of running
// tests (checked in init, before TestMain, as wedgeEnv is).
const caCheckEnv = "REALMD_CORE_CACHECK_PLUGIN"

func init() {
	if os.Getenv(caCheckEnv) != "" {
		sdk.Serve(caCheckPlugin())
		os.Exit(0)
	}
}

// caCheckAuthn reads its ca_file when it starts and refuses to start when
// the file holds "garbage", as a realm refuses a CA bundle it cannot parse.
type caCheckAuthn struct {
	fakeAuthn
	ca string
}

func (a *caCheckAuthn) Provision(context.Context) error {
	b, err := sdk.ReadFile(a.ca)
	if err != nil {
		return err
	}
	if string(b) == "garbage\n" {
		return sdk.Problem{Key: "ca_file", Message: a.ca + " holds no certificate"}
	}
	return nil
}

func caCheckPlugin() sdk.Plugin {
	return sdk.Plugin{Name: "cacheck", Version: "0", Authenticators: map[string]sdk.Factory[sdk.Authenticator]{
		"cacheck": func(cfg *sdk.Config) (sdk.Authenticator, error) {
			return &caCheckAuthn{ca: cfg.Path("ca_file", "")}, nil
		},
	}}
}

func caCheckSpec(t *testing.T, dir string) InstanceSpec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ref := PluginRef{Name: "cacheck", Path: exe, Args: []string{"-test.run=^$"}, Env: []string{caCheckEnv + "=1"}}
	return InstanceSpec{Name: "authc.ldap.http_authenticator", Role: sdk.RoleAuthenticator, Type: "cacheck", Plugin: ref,
		Config: []byte(`{"ca_file": "ca.pem"}`), Dir: dir}
}

// A CA file that changed under a running instance makes the pool start a
// replacement; when that replacement fails to start (a refused reload), the
// old instance keeps serving its generation, and once the file is put back
// the next reload reuses it. Found by review: the pool forgot the old
// instance before its replacement had started, so an unrelated edit after
// the refusal restarted a plugin whose spec and files had not changed.
func TestPool_AFailedReplacementLeavesTheOldInstanceReusable(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	writeFile(t, ca, "good\n")
	spec := caCheckSpec(t, dir)
	pool := newInstancePool()
	log := hclog.NewNullLogger()
	a, err := pool.acquire(context.Background(), spec, log)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.release(a) // generation 1, still serving

	writeFile(t, ca, "garbage\n")
	if b, err := pool.acquire(context.Background(), spec, log); err == nil {
		pool.release(b)
		t.Fatal("a start with a garbage CA file succeeded; the test needs it to fail")
	}
	writeFile(t, ca, "good\n") // the same bytes a read when it started
	if a.FilesChanged() {
		t.Fatal("the restored file still counts as changed")
	}
	c, err := pool.acquire(context.Background(), spec, log)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.release(c)
	if c != a {
		t.Errorf("after a refused replacement and the file put back, the pool started a new process (pid %d) instead of reusing pid %d",
			c.Status().PID, a.Status().PID)
	}
}
