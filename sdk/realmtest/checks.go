package realmtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

const (
	// callBound bounds every check's calls, so a hung plugin fails the test
	// instead of hanging it.
	callBound = 30 * time.Second
	// promptBound is how long a call whose deadline has passed, or a dying
	// process, may take to show it. It is a hang guard, not a timing check.
	promptBound = 5 * time.Second
	// concurrentCalls is how many calls the multiplexing check makes at once.
	concurrentCalls = 64
)

type runner struct {
	suite     Suite
	instances []instance
}

func (r *runner) launch(t *testing.T) *sdk.Client {
	t.Helper()
	if r.suite.Command == nil {
		return Launch(t)
	}
	return LaunchCommand(t, r.suite.Command())
}

func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), callBound)
	t.Cleanup(cancel)
	return ctx
}

func (r *runner) checkDescribe(t *testing.T) {
	c := r.launch(t)
	d, err := c.Describe(bounded(t))
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if d.Name == "" || d.Version == "" {
		t.Errorf("Describe: name %q, version %q; want both set", d.Name, d.Version)
	}
	covered := map[sdk.Role][]string{}
	for _, in := range r.instances {
		covered[in.role] = append(covered[in.role], in.typ)
		if !d.Serves(in.role, in.typ) {
			t.Errorf("Describe does not list %s %q", in.role, in.typ)
		}
	}
	for role, types := range map[sdk.Role][]string{
		sdk.RoleAuthenticator: d.Authenticators,
		sdk.RoleBackend:       d.Backends,
		sdk.RoleAuthorizer:    d.Authorizers,
	} {
		for _, typ := range types {
			if !slices.Contains(covered[role], typ) {
				t.Errorf("plugin serves %s %q but the suite does not describe it", role, typ)
			}
		}
	}
}

// wrongKindCalls makes one call of each kind; the result is keyed by the
// role that may serve it.
func wrongKindCalls(ctx context.Context, c *sdk.Client) map[sdk.Role]error {
	_, _, extractErr := c.Extract(ctx, &sdk.Request{Method: "GET", Path: "/"})
	_, _, authnErr := c.Authenticate(ctx, &sdk.Credentials{Username: "realmtest", Password: []byte("realmtest")})
	_, authzErr := c.Authorize(ctx, &sdk.User{Name: "realmtest"})
	return map[sdk.Role]error{
		sdk.RoleAuthenticator: extractErr,
		sdk.RoleBackend:       authnErr,
		sdk.RoleAuthorizer:    authzErr,
	}
}

func (r *runner) checkNotConfigured(t *testing.T) {
	c := r.launch(t)
	ctx := bounded(t)
	expectNotConfigured := func(when string) {
		t.Helper()
		for role, err := range wrongKindCalls(ctx, c) {
			if !errors.Is(err, sdk.ErrNotConfigured) {
				t.Errorf("%s: %s call: got %v, want an error wrapping sdk.ErrNotConfigured", when, role, err)
			}
		}
	}
	expectNotConfigured("before Configure")
	for _, in := range r.instances {
		cfg, err := in.configuration(in.config, true)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Configure(ctx, cfg)
		if err != nil {
			t.Fatalf("validate-only Configure of %s %q: %v", in.role, in.typ, err)
		}
		if len(res.Problems) > 0 {
			t.Errorf("validate-only Configure of %s %q refused the valid config: %v", in.role, in.typ, res.Problems)
		}
		if msg := in.checkWarnings(res.Warnings); msg != "" {
			t.Errorf("validate-only Configure of %s %q: %s", in.role, in.typ, msg)
		}
	}
	expectNotConfigured("after validate-only Configure")
}

func (r *runner) checkUnknownType(t *testing.T) {
	c := r.launch(t)
	ctx := bounded(t)
	for _, role := range []sdk.Role{sdk.RoleAuthenticator, sdk.RoleBackend, sdk.RoleAuthorizer} {
		for _, validateOnly := range []bool{true, false} {
			res, err := c.Configure(ctx, sdk.Configuration{
				Role: role, Type: "realmtest-no-such-type", Instance: "realmtest", JSON: []byte("{}"), Dir: r.suite.Dir, ValidateOnly: validateOnly,
			})
			if err != nil {
				t.Fatalf("Configure of an unknown %s type: %v", role, err)
			}
			if len(res.Problems) == 0 {
				t.Errorf("Configure of an unknown %s type (validate only %v) was accepted", role, validateOnly)
			}
		}
	}
	if _, err := c.Describe(ctx); err != nil {
		t.Errorf("plugin died after an unknown type: %v", err)
	}
	for role, err := range wrongKindCalls(ctx, c) {
		if !errors.Is(err, sdk.ErrNotConfigured) {
			t.Errorf("%s call after refused configs: got %v, want sdk.ErrNotConfigured", role, err)
		}
	}
}

func (r *runner) checkInstance(t *testing.T, in instance) {
	c := r.launch(t)
	ctx := bounded(t)
	configure := func(cfg map[string]any, validateOnly bool) sdk.Configured {
		t.Helper()
		conf, err := in.configuration(cfg, validateOnly)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Configure(ctx, conf)
		if err != nil {
			t.Fatalf("Configure: %v", err)
		}
		return res
	}
	checkInvalid := func(validateOnly bool) {
		t.Helper()
		res := configure(in.invalid, validateOnly)
		if got, want := problemKeys(res.Problems), sortedSet(in.invalidKeys); !slices.Equal(got, want) {
			t.Errorf("invalid config (validate only %v): problems at %q, want at %q (problems: %v)", validateOnly, got, want, res.Problems)
		}
	}

	checkInvalid(true)
	res := configure(in.config, false)
	if len(res.Problems) > 0 {
		t.Fatalf("valid config refused: %v", res.Problems)
	}
	if msg := in.checkWarnings(res.Warnings); msg != "" {
		t.Error(msg)
	}
	if in.challenge != nil && res.Challenge != *in.challenge {
		t.Errorf("challenge = %+v, want %+v", res.Challenge, *in.challenge)
	}
	inputs := res.Inputs

	for role, err := range wrongKindCalls(ctx, c) {
		if role != in.role && !errors.Is(err, sdk.ErrUnsupported) {
			t.Errorf("%s call to a %s: got %v, want an error wrapping sdk.ErrUnsupported", role, in.role, err)
		}
	}
	runCases(ctx, t, c, in, inputs, "")

	checkInvalid(false)
	runCases(ctx, t, c, in, inputs, "after a refused config: ")

	checkConcurrent(ctx, t, c, in, inputs)
	if len(in.cases) > 0 {
		checkExpired(t, c, in.cases[0], inputs)
	}
}

func runCases(ctx context.Context, t *testing.T, c *sdk.Client, in instance, inputs sdk.Inputs, prefix string) {
	t.Helper()
	for _, p := range in.cases {
		got, err := p.call(ctx, c, inputs)
		if msg := p.check(got, err); msg != "" {
			t.Errorf("%scase %q: %s", prefix, p.name, msg)
		}
	}
}

// checkConcurrent makes concurrentCalls calls at once, cycling through the
// cases, and checks that each caller gets the answer to its own call.
func checkConcurrent(ctx context.Context, t *testing.T, c *sdk.Client, in instance, inputs sdk.Inputs) {
	t.Helper()
	if len(in.cases) == 0 {
		return
	}
	start := make(chan struct{})
	msgs := make([]string, concurrentCalls)
	var wg sync.WaitGroup
	for i := range concurrentCalls {
		p := in.cases[i%len(in.cases)]
		wg.Go(func() {
			<-start
			got, err := p.call(ctx, c, inputs)
			if msg := p.check(got, err); msg != "" {
				msgs[i] = fmt.Sprintf("concurrent call %d (case %q): %s", i, p.name, msg)
			}
		})
	}
	close(start)
	wg.Wait()
	for _, m := range msgs {
		if m != "" {
			t.Error(m)
		}
	}
}

// checkExpired makes a call whose deadline has passed.
func checkExpired(t *testing.T, c *sdk.Client, p probe, inputs sdk.Inputs) {
	t.Helper()
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := p.call(ctx, c, inputs)
		errc <- err
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, sdk.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("call with an expired deadline: got %v, want sdk.ErrUnavailable or a context error", err)
		}
	case <-time.After(promptBound):
		t.Errorf("call with an expired deadline did not return within %v", promptBound)
	}
}

func (r *runner) checkKill(t *testing.T) {
	c := r.launch(t)
	ctx := bounded(t)
	if _, err := c.Describe(ctx); err != nil {
		t.Fatalf("Describe: %v", err)
	}
	c.Kill()
	select {
	case <-c.Done():
	case <-time.After(promptBound):
		t.Fatalf("Done not closed within %v of Kill", promptBound)
	}
	for role, err := range wrongKindCalls(ctx, c) {
		if !errors.Is(err, sdk.ErrUnavailable) {
			t.Errorf("%s call after Kill: got %v, want an error wrapping sdk.ErrUnavailable", role, err)
		}
	}
	if _, err := c.Describe(ctx); !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Describe after Kill: got %v, want an error wrapping sdk.ErrUnavailable", err)
	}
	if !c.Exited() {
		t.Error("plugin process has not exited after Kill")
	}
}

// checkWarnings compares the warnings of the valid config with the
// expected keys; it returns "" or what differs.
func (in instance) checkWarnings(ws []sdk.Problem) string {
	if got, want := problemKeys(ws), sortedSet(in.warnings); !slices.Equal(got, want) {
		return fmt.Sprintf("valid config: warnings at %q, want at %q (warnings: %v)", got, want, ws)
	}
	return ""
}

func problemKeys(ps []sdk.Problem) []string {
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Key
	}
	return sortedSet(keys)
}

func sortedSet(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return slices.Compact(out)
}
