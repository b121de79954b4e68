package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// Restart backoff for crashed plugins. A process that answered a call
// before it died proved it can serve: it is restarted after the shortest
// delay, so a request that crashes the plugin now and then costs well
// under a second of 503s. One that died before answering any call (it
// crashes as it starts, or on its first call) waits twice as long as the
// one before it, up to the longest delay, so a crash loop costs little
// CPU. So does one restarted fast maxFastRestarts times within
// stableAfter: a realm that dies soon after each start while it serves
// (a background goroutine that panics) is a crash loop too, and backs off
// until a process runs stableAfter.
const (
	restartBackoffMin = 50 * time.Millisecond
	restartBackoffMax = 10 * time.Second
	// stableAfter resets the backoff too: a plugin that ran this long
	// without a call (an idle realm) was healthy.
	stableAfter = 30 * time.Second
	// maxFastRestarts is how many restarts after the shortest delay a
	// plugin gets within stableAfter.
	maxFastRestarts = 5
	// configureTimeout bounds one Configure call (provisioning included).
	configureTimeout = 30 * time.Second
)

// unaryTransport switches plugin calls from the multiplexed stream to one
// unary RPC each. It exists only so `make bench` can compare the two in
// realmd; the stream is faster (see docs/architecture.md).
var unaryTransport = os.Getenv("REALMD_PLUGIN_TRANSPORT") == "unary"

// InstanceSpec is one configured plugin instance: one process.
type InstanceSpec struct {
	// Name identifies the instance in logs and status, e.g.
	// "authc.basic_internal_auth_domain.http_authenticator".
	Name   string
	Role   sdk.Role
	Type   string
	Plugin PluginRef
	Config []byte // the instance's config map as JSON
	Dir    string
	// BinarySum is the SHA-256 of a third-party plugin's executable when
	// the generation was planned.
	BinarySum string
}

// key identifies what makes two specs run the same process: reuse is safe
// when it matches (see the hot-reload design in docs/architecture.md).
func (s InstanceSpec) key() string {
	return fmt.Sprintf("%d|%s|%s|%q|%q|%x|%s|%s|%s", s.Role, s.Type, s.Plugin.Path, s.Plugin.Args, s.Plugin.Env, s.Plugin.Checksum, s.BinarySum, s.Config, s.Dir)
}

// Instance states, as /_realmd/status reports them.
const (
	StateStarting   = "starting"
	StateRunning    = "running"
	StateRestarting = "restarting"
	StateStopped    = "stopped"
	// StateUnresponsive is a running process that answers no call: one
	// it was sent is overdue and it has answered nothing since (see
	// sdk.Client.Answering). It is running again once it answers.
	StateUnresponsive = "unresponsive"
)

// Instance supervises one plugin process: it starts and configures it,
// restarts it with backoff when it dies, and stops it. While the process is
// down every call fails fast with sdk.ErrUnavailable.
type Instance struct {
	spec   InstanceSpec
	logger hclog.Logger

	client     atomic.Pointer[sdk.Client]
	configured sdk.Configured    // from the first start; fixed for the spec
	fileSums   map[string]string // content hash of each file the instance read
	volatile   map[string]bool   // files the replaced instance saw change while it was configured
	state      atomic.Value      // string
	warned     atomic.Bool       // newWarnings has been called
	restarts   atomic.Int64
	startedAt  atomic.Value // time.Time

	stopOnce sync.Once
	stop     chan struct{}
	stopCtx  context.Context // cancelled by Stop, so it never waits out a restart
	cancel   context.CancelFunc
	done     chan struct{}
}

// ConfigProblems is returned by StartInstance when the plugin refused its
// configuration.
type ConfigProblems struct {
	Spec     InstanceSpec
	Problems []sdk.Problem
	// Warnings came with the refusal; they are reported beside it, as the
	// plugin no longer logs them itself.
	Warnings []sdk.Problem
}

func (e *ConfigProblems) Error() string {
	return fmt.Sprintf("%s: plugin %q refused its configuration (%d problems)", e.Spec.Name, e.Spec.Plugin.Name, len(e.Problems))
}

// StartInstance launches and configures the plugin, then supervises it
// until Stop. It fails when the process does not start, does not serve the
// spec's role and type, or refuses the configuration (*ConfigProblems).
func StartInstance(ctx context.Context, spec InstanceSpec, logger hclog.Logger) (*Instance, error) {
	return startInstance(ctx, spec, logger, nil)
}

// startInstance is StartInstance for an instance that replaces one whose
// files came back changedWhileRead (replaced.unsettled()): if they change
// again while this one is configured, the plugin itself most likely
// writes them, and their after-sums are kept (see configureSummed).
func startInstance(ctx context.Context, spec InstanceSpec, logger hclog.Logger, volatile map[string]bool) (*Instance, error) {
	in := &Instance{
		spec:     spec,
		logger:   logger.Named(spec.Name),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		volatile: volatile,
	}
	in.stopCtx, in.cancel = context.WithCancel(context.Background())
	in.state.Store(StateStarting)
	c, conf, sums, err := in.launch(ctx, firstStart)
	if err != nil {
		in.cancel()
		return nil, err
	}
	in.configured = conf
	in.fileSums = sums
	in.setRunning(c)
	go in.supervise()
	return in, nil
}

// Validate starts the plugin only to check a configuration, then stops it.
// It returns the plugin's problems and its warnings (cfg.Warn), which come
// with problems too.
func Validate(ctx context.Context, spec InstanceSpec, logger hclog.Logger) (problems, warnings []sdk.Problem, err error) {
	in := &Instance{spec: spec, logger: logger.Named(spec.Name)}
	c, conf, _, err := in.launch(ctx, validateOnly)
	if c != nil {
		c.Kill()
	}
	warnings = append(conf.Warnings, unreadableFiles(conf.Files)...)
	if cp, ok := err.(*ConfigProblems); ok {
		return cp.Problems, warnings, nil
	}
	return nil, warnings, err
}

// unreadableFiles warns about the files an instance depends on that are
// missing or not regular files. A validate-only pass reads no file (its
// factory does no I/O), so without this `realmd check` would pass a config
// whose plugin then fails to start under serve.
func unreadableFiles(files []string) []sdk.Problem {
	var out []sdk.Problem
	for _, f := range files {
		st, err := os.Stat(f)
		switch {
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is in the message already
			}
			out = append(out, sdk.Problem{Message: fmt.Sprintf("the realm reads %s when it starts, and it cannot: %v", f, err)})
		case !st.Mode().IsRegular():
			out = append(out, sdk.Problem{Message: fmt.Sprintf("the realm reads %s when it starts, and it is not a regular file", f)})
		}
	}
	return out
}

// launchMode is what launch is for.
type launchMode int

const (
	// validateOnly configures the plugin validate-only; on error too the
	// process is returned, for the caller to stop.
	validateOnly launchMode = iota
	// firstStart configures the plugin and returns the checksums of the
	// files the instance depends on (see configureSummed).
	firstStart
	// restart configures the plugin again after it died; the instance
	// keeps the sums of its first start.
	restart
)

// launch starts one process and configures it, as mode says. sums is nil
// but for firstStart. On error the process is gone, but for validateOnly.
func (in *Instance) launch(ctx context.Context, mode launchMode) (c *sdk.Client, conf sdk.Configured, sums map[string]string, err error) {
	s := in.spec
	c, err = sdk.Launch(sdk.LaunchConfig{Cmd: s.Plugin.Command(), Checksum: s.Plugin.Checksum, Logger: in.logger, Unary: unaryTransport})
	if err != nil {
		return nil, sdk.Configured{}, nil, fmt.Errorf("%s: starting plugin %q (%s): %w", s.Name, s.Plugin.Name, s.Plugin.Path, err)
	}
	ctx, cancel := context.WithTimeout(ctx, configureTimeout)
	defer cancel()
	d, err := c.Describe(ctx)
	if err == nil && !d.Serves(s.Role, s.Type) {
		err = fmt.Errorf("plugin %q does not serve %s type %q", d.Name, s.Role, s.Type)
	}
	if err == nil {
		cfg := sdk.Configuration{Role: s.Role, Type: s.Type, Instance: s.Name, JSON: s.Config, Dir: s.Dir, ValidateOnly: mode == validateOnly}
		if mode == firstStart {
			conf, sums, err = in.configureSummed(ctx, c, cfg)
		} else {
			conf, err = c.Configure(ctx, cfg)
		}
	}
	if err == nil && len(conf.Problems) > 0 {
		err = &ConfigProblems{Spec: s, Problems: conf.Problems, Warnings: conf.Warnings}
	}
	if err != nil {
		if mode == validateOnly {
			return c, conf, nil, err
		}
		c.Kill()
		if _, ok := err.(*ConfigProblems); ok {
			return nil, conf, nil, err
		}
		return nil, conf, nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	return c, conf, sums, nil
}

// changedWhileRead stands for the checksum of a file that changed while the
// plugin was configured: it matches no content, so FilesChanged reports the
// file and the next reload starts a fresh instance.
const changedWhileRead = "changed while the plugin read it"

// configureSummed configures c and checksums the files the instance depends
// on, in an order that never records content newer than what the plugin
// read. The plugin reads its files during Configure, but only it knows
// which ones, so:
//
//  1. a validation pass (factories do no I/O and Provision is skipped)
//     names the files;
//  2. they are checksummed: "before", older than anything the plugin reads;
//  3. the real Configure reads them;
//  4. they are checksummed again: "after".
//
// A file whose two sums differ was edited while the plugin read it: the
// plugin may serve either content, so it is recorded as changedWhileRead
// and a reload replaces the instance (the watcher checks every new
// generation for this, as no file event may be left to announce the edit).
// Checksumming only after Configure, as realmd once did, recorded the new
// content while the plugin served the old, and no reload ever came.
// A file only the real Configure names keeps its after-sum, so that a
// plugin whose file list varies cannot make realmd reload for ever. So does
// a file in in.volatile that changes again: the instance this one replaces
// saw it change while it was configured too, so the plugin most likely
// writes it itself, and marking it again would reload for ever.
func (in *Instance) configureSummed(ctx context.Context, c *sdk.Client, cfg sdk.Configuration) (sdk.Configured, map[string]string, error) {
	cfg.ValidateOnly = true
	pre, err := c.Configure(ctx, cfg)
	if err != nil || len(pre.Problems) > 0 {
		return pre, nil, err
	}
	before := sumFiles(pre.Files)
	cfg.ValidateOnly = false
	conf, err := c.Configure(ctx, cfg)
	if err != nil || len(conf.Problems) > 0 {
		return conf, nil, err
	}
	sums := sumFiles(conf.Files)
	for path, sum := range sums {
		if b, ok := before[path]; !ok || b == sum {
			continue
		}
		if in.volatile[path] {
			in.logger.Warn("a file changed while the plugin read it, again; keeping what it holds now. "+
				"If the plugin writes this file itself, realmd cannot tell its writes from yours: an edit made while the plugin starts may go unnoticed", "file", path)
			continue
		}
		sums[path] = changedWhileRead
	}
	return conf, sums, nil
}

func (in *Instance) setRunning(c *sdk.Client) {
	in.client.Store(c)
	in.startedAt.Store(time.Now())
	in.state.Store(StateRunning)
}

// supervise restarts the process whenever it dies, until Stop.
func (in *Instance) supervise() {
	defer close(in.done)
	backoff := restartBackoffMin
	var fast []time.Time // the fast restarts of the last stableAfter
	crashLoop := false   // backing off though the plugin answered calls
	for {
		c := in.client.Load()
		select {
		case <-in.stop:
			return
		case <-c.Done():
		}
		in.client.Store(nil)
		c.Kill()
		in.state.Store(StateRestarting)
		answered := c.Answered()
		why := "it died before answering any call: each such death doubles the delay, up to " + restartBackoffMax.String()
		now := time.Now()
		fast = slices.DeleteFunc(fast, func(at time.Time) bool { return now.Sub(at) > stableAfter })
		switch {
		case now.Sub(in.StartedAt()) > stableAfter:
			backoff, why = restartBackoffMin, "it ran for "+stableAfter.String()+" before it died"
			fast, crashLoop = fast[:0], false
			if answered > 0 {
				why = "it answered calls before it died"
				fast = append(fast, now)
			}
		case answered > 0 && !crashLoop && len(fast) >= maxFastRestarts:
			crashLoop = true
			why = fmt.Sprintf("it answered calls, but died again after %d fast restarts within %v: a crash loop, so each death doubles the delay, up to %v, until it runs %v",
				maxFastRestarts, stableAfter, restartBackoffMax, stableAfter)
		case answered > 0 && crashLoop:
			why = fmt.Sprintf("it is in a crash loop (it died after %d fast restarts within %v): each death doubles the delay, up to %v, until it runs %v",
				maxFastRestarts, stableAfter, restartBackoffMax, stableAfter)
		case answered > 0:
			backoff, why = restartBackoffMin, "it answered calls before it died"
			fast = append(fast, now)
		}
		// The reason tells a crash (the stream closed) from realmd ending
		// the connection to a plugin that stopped reading its calls.
		in.logger.Error("plugin connection ended; restarting the plugin", "plugin", in.spec.Plugin.Name, "reason", c.Err(),
			"answered_calls", answered, "backoff", backoff, "backoff_because", why)
		for {
			select {
			case <-in.stop:
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, restartBackoffMax)
			// The sums stay those of the first start: a file changed
			// since then keeps FilesChanged true until a reload.
			nc, _, _, err := in.launch(in.stopCtx, restart)
			if err == nil {
				in.restarts.Add(1)
				in.setRunning(nc)
				in.logger.Info("plugin restarted", "pid", nc.Pid())
				break
			}
			in.logger.Error("plugin restart failed", "error", err, "next_backoff", backoff)
		}
	}
}

// Stop kills the process and ends supervision. It is safe to call twice.
func (in *Instance) Stop() {
	in.stopOnce.Do(func() {
		close(in.stop)
		in.cancel()
		<-in.done
		if c := in.client.Swap(nil); c != nil {
			c.Kill()
		}
		in.state.Store(StateStopped)
	})
}

// Status is a snapshot for /_realmd/status and /readyz.
type Status struct {
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Plugin    string    `json:"plugin"`
	PID       int       `json:"pid"`
	State     string    `json:"state"`
	Restarts  int64     `json:"restarts"`
	StartedAt time.Time `json:"started_at"`
}

// Status reports the instance's current state.
func (in *Instance) Status() Status {
	st := Status{
		Name: in.spec.Name, Type: in.spec.Type, Plugin: in.spec.Plugin.Name,
		State: in.state.Load().(string), Restarts: in.restarts.Load(), StartedAt: in.StartedAt(),
	}
	if c := in.client.Load(); c != nil {
		st.PID = c.Pid()
		if st.State == StateRunning && !c.Answering() {
			st.State = StateUnresponsive
		}
	}
	return st
}

// StartedAt is when the current process was started.
func (in *Instance) StartedAt() time.Time {
	t, _ := in.startedAt.Load().(time.Time)
	return t
}

// unsettled lists the files that changed while the instance was configured
// (changedWhileRead): a replacement instance treats them as volatile.
func (in *Instance) unsettled() map[string]bool {
	var out map[string]bool
	for path, sum := range in.fileSums {
		if sum == changedWhileRead {
			if out == nil {
				out = map[string]bool{}
			}
			out[path] = true
		}
	}
	return out
}

// FilesChanged reports whether a file the instance read has changed since it
// started; such an instance must not be reused by a new generation.
func (in *Instance) FilesChanged() bool {
	for path, sum := range in.fileSums {
		if fileSum(path) != sum {
			return true
		}
	}
	return false
}

// Files lists the files the instance read.
func (in *Instance) Files() []string { return keys(in.fileSums) }

// Configured is what the plugin answered to Configure.
func (in *Instance) Configured() sdk.Configured { return in.configured }

// newWarnings returns the plugin's warnings the first time it is called,
// and nil after: a generation that starts the instance shows them, one
// that reuses it does not show them again.
func (in *Instance) newWarnings() []sdk.Problem {
	if in.warned.Swap(true) {
		return nil
	}
	return in.configured.Warnings
}

func (in *Instance) current() (*sdk.Client, error) {
	c := in.client.Load()
	if c == nil {
		return nil, fmt.Errorf("%w: plugin %q of %s is restarting", sdk.ErrUnavailable, in.spec.Plugin.Name, in.spec.Name)
	}
	return c, nil
}

// Extract implements pipeline.Extractor.
func (in *Instance) Extract(ctx context.Context, r *sdk.Request) (*sdk.Credentials, string, error) {
	c, err := in.current()
	if err != nil {
		return nil, "", err
	}
	return c.Extract(ctx, r)
}

// Authenticate implements pipeline.Verifier.
func (in *Instance) Authenticate(ctx context.Context, cr *sdk.Credentials) (*sdk.User, string, error) {
	c, err := in.current()
	if err != nil {
		return nil, "", err
	}
	return c.Authenticate(ctx, cr)
}

// Authorize implements pipeline.Granter.
func (in *Instance) Authorize(ctx context.Context, u *sdk.User) (*sdk.Grant, error) {
	c, err := in.current()
	if err != nil {
		return nil, err
	}
	return c.Authorize(ctx, u)
}
