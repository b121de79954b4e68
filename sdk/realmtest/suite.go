package realmtest

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// AnyTTL as the CacheTTL of an expected answer matches any TTL, for answers
// whose lifetime depends on the clock (a token's expiry).
const AnyTTL = time.Duration(-1)

// Suite describes the plugin under test: every type it serves, each with a
// valid config, an invalid one, and sample calls with their answers.
type Suite struct {
	// Command returns a fresh, unstarted command that starts the plugin. Nil
	// means the current test binary, re-executed (TestMain must call
	// ServeIfChild). Run starts several processes, so it calls Command more
	// than once. The parent-death checks re-execute the test binary as the
	// plugin's parent, so TestMain must call ServeIfChild even when Command
	// is set (with any Plugin; sdk.Plugin{} will do).
	Command func() *exec.Cmd

	// Dir is the config directory every Configure gets, as realmd passes
	// the directory of its config files: a relative path that the plugin
	// reads with sdk.Config.Path resolves against it. "" means the test's
	// working directory, which is the package's, so that a config may name
	// files in testdata/. A relative Dir is made absolute.
	Dir string

	Authenticators []Authenticator
	Backends       []Backend
	Authorizers    []Authorizer
}

// Authenticator describes one http authenticator type.
type Authenticator struct {
	Type string
	// Config is a valid config map (anything encoding/json accepts); nil is {}.
	Config map[string]any
	// Invalid is a config the plugin must refuse, with a problem at each of
	// InvalidKeys and at no other key. Nil means Config plus the key
	// "realmtest_unknown_key", which every plugin must refuse at that key.
	Invalid     map[string]any
	InvalidKeys []string
	// Warnings are the keys at which the valid Config must draw warnings
	// (sdk.Config.Warn), "" for the config as a whole: exactly these, in
	// any order, validate-only and real. Nil means no warnings.
	Warnings []string
	// Challenge, when set, is the challenge Configure must report.
	Challenge *sdk.Challenge
	// Cases are sample requests. Give at least two with different answers so
	// the concurrency check can tell replies apart.
	Cases []ExtractCase
}

// ExtractCase is one request and its expected answer. Run sends only the
// parts of Request that the authenticator declared in its Inputs, as realmd
// does: never Method or Path, and SocketAddress only with
// Inputs.ClientAddress.
type ExtractCase struct {
	Name    string
	Request sdk.Request
	// Want is the expected credentials; nil means "no credentials here".
	Want *sdk.Credentials
	// Err, when set, is the sentinel the call's error must wrap (errors.Is);
	// Want is then ignored.
	Err error
}

// Backend describes one authentication backend type; its fields mean what
// Authenticator's do.
type Backend struct {
	Type        string
	Config      map[string]any
	Invalid     map[string]any
	InvalidKeys []string
	Warnings    []string
	Cases       []AuthenticateCase
}

// AuthenticateCase is one set of credentials and its expected answer.
type AuthenticateCase struct {
	Name        string
	Credentials sdk.Credentials
	// Want is the expected user; nil means the credentials are rejected.
	Want *sdk.User
	Err  error
}

// Authorizer describes one authorization backend type; its fields mean
// what Authenticator's do.
type Authorizer struct {
	Type        string
	Config      map[string]any
	Invalid     map[string]any
	InvalidKeys []string
	Warnings    []string
	Cases       []AuthorizeCase
}

// AuthorizeCase is one user and the grant the authorizer must give.
type AuthorizeCase struct {
	Name string
	User sdk.User
	// Want is the expected grant; an unknown user gets an empty one.
	Want sdk.Grant
	Err  error
}

// Run checks the plugin described by s through the real handshake, in
// subtests of t. Every Configure gets s.Dir as its config directory.
//
//   - Describe lists every type of the suite, and the suite covers every
//     type Describe lists;
//   - calls before Configure fail with sdk.ErrNotConfigured, also after a
//     validate-only Configure, which must not activate the instance;
//   - an unknown type is refused with a problem and the process lives on;
//   - for each type: the valid config is accepted with warnings at exactly
//     the expected keys (validate-only and real), the invalid one refused
//     with problems at exactly the expected keys (validate-only and real,
//     and a refused config leaves the previous instance serving); calls of
//     another kind fail with sdk.ErrUnsupported; every case gets its answer,
//     and no answer is one realmd refuses (credentials with neither
//     Username nor Continue, a user without a Name);
//     64 concurrent calls each get their own answer; a call whose deadline
//     has passed fails promptly with sdk.ErrUnavailable or a context error;
//   - after Kill, Done is closed and calls fail with sdk.ErrUnavailable;
//   - the plugin process exits when its parent is killed, both when the
//     parent launched it through the handshake and when the parent started
//     it without the kernel's parent-death signal.
func Run(t *testing.T, s Suite) {
	t.Helper()
	if s.Dir == "" {
		s.Dir = "." // the package directory, where testdata/ is
	}
	abs, err := filepath.Abs(s.Dir)
	if err != nil {
		t.Fatalf("realmtest: Suite.Dir: %v", err)
	}
	s.Dir = abs
	r := &runner{suite: s, instances: s.instances()}
	if len(r.instances) == 0 {
		t.Fatal("realmtest: the suite describes no types")
	}
	for _, in := range r.instances {
		if len(in.cases) == 0 {
			t.Errorf("realmtest: %s %q has no cases", in.role, in.typ)
		}
	}
	t.Run("Describe", r.checkDescribe)
	t.Run("NotConfigured", r.checkNotConfigured)
	t.Run("UnknownType", r.checkUnknownType)
	for _, in := range r.instances {
		t.Run(in.role.String()+"/"+in.typ, func(t *testing.T) { r.checkInstance(t, in) })
	}
	t.Run("Kill", r.checkKill)
	t.Run("ExitsWithHost", func(t *testing.T) { r.checkExitsWithParent(t, false) })
	t.Run("ExitsWithParentWithoutKernelHelp", func(t *testing.T) { r.checkExitsWithParent(t, true) })
}
