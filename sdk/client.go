package sdk

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// This file is the host side of the wire contract: realmd's supervisor and
// the conformance kit use it. Plugin authors do not need it.

// LaunchConfig says how to start one plugin process.
type LaunchConfig struct {
	// Cmd is the plugin command. Launch adds the handshake's variables to
	// its environment: Cmd.Env when set (and nothing of this process's),
	// else this process's environment.
	Cmd *exec.Cmd
	// Checksum, when set, is the SHA-256 the executable must have. The
	// executable must then be a regular file, not a symlink; on Linux the
	// process runs from the very descriptor that was hashed.
	Checksum []byte
	// Logger receives the plugin's log lines. A line on the plugin's stderr
	// that is not a log entry (the standard library's log, a message
	// written before Serve) is logged at warn; the last few such lines end
	// the error of a start that failed.
	Logger hclog.Logger
	// StartTimeout bounds the handshake; 0 means 10 seconds.
	StartTimeout time.Duration
	// Unary makes calls one RPC each instead of multiplexing them over one
	// stream. It exists for the hop benchmark.
	Unary bool
}

// Description is what a plugin says about itself.
type Description struct {
	Name           string
	Version        string
	Authenticators []string
	Backends       []string
	Authorizers    []string
}

// Serves reports whether the plugin serves typ in role.
func (d Description) Serves(role Role, typ string) bool {
	var list []string
	switch role {
	case RoleAuthenticator:
		list = d.Authenticators
	case RoleBackend:
		list = d.Backends
	case RoleAuthorizer:
		list = d.Authorizers
	}
	for _, t := range list {
		if t == typ {
			return true
		}
	}
	return false
}

// Configuration is one Configure call.
type Configuration struct {
	Role         Role
	Type         string
	Instance     string
	JSON         []byte
	Dir          string
	ValidateOnly bool
}

// Configured is what a successful Configure returns.
type Configured struct {
	// Problems is non-empty when the configuration was refused.
	Problems []Problem
	// Warnings are what the factory recorded with Config.Warn, refused or
	// not. The plugin does not log them: the host shows them.
	Warnings  []Problem
	Inputs    Inputs
	Challenge Challenge
	// Files are the files the instance depends on.
	Files []string
}

// Client is the host's handle on one running plugin process. Its methods are
// safe for concurrent use. Every error from a call wraps one of the sentinel
// errors; a dead process gives ErrUnavailable.
type Client struct {
	gp     *plugin.Client
	cmd    *exec.Cmd // the plugin's process, which Kill ends if go-plugin cannot
	logger hclog.Logger
	rpc    pb.RealmClient
	unary  bool
	kill   sync.Once

	ctx     context.Context // lives as long as the stream
	cancel  context.CancelCauseFunc
	stream  pb.Realm_ExchangeClient
	calls   *batcher[outgoing]
	sendBuf []*pb.Call   // the current sender's (see sendCalls)
	longest atomic.Int64 // the largest TimeoutMs sent, for watch
	nextID  atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]chan *pb.Reply
	broken  error
	done    chan struct{}
	// owed holds the calls sent and not answered yet, whether or not their
	// callers still wait: id → when the answer is overdue (unix ns; see
	// answerGrace). lastReply is when the last reply came (unix ns).
	owed      map[uint64]int64
	lastReply int64
	// cancels holds the ids of calls whose callers left before their
	// replies came, for the next message to carry (see abandon); kick
	// wakes flushCancels to send them when no send is under way.
	cancels []uint64
	kick    chan struct{}

	answered   atomic.Int64 // replies received
	unanswered atomic.Bool  // the watch's verdict; see Answering
}

// Launch starts a plugin process, completes the handshake (with AutoMTLS) and
// opens the call stream. On any failure the process is killed.
//
// With a Checksum, the executable is opened once, hashed from that open file
// and, where the platform allows (see runPinned), run from that same file:
// checking a path and then starting the path would run whatever was renamed
// or symlinked over it in between.
func Launch(cfg LaunchConfig) (*Client, error) {
	if cfg.StartTimeout == 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	configureChild(cfg.Cmd)
	c, err := launch(cfg)
	if err != nil {
		return nil, err
	}
	c.cmd, c.logger = cfg.Cmd, cfg.Logger
	if !c.unary {
		go c.watch(cfg.Logger, stuckAfter, stuckCheck)
	}
	return c, nil
}

func launch(cfg LaunchConfig) (*Client, error) {
	if cfg.Checksum == nil {
		return start(cfg, nil)
	}
	exe, err := openPinned(executablePath(cfg.Cmd), cfg.Checksum)
	if err != nil {
		return nil, fmt.Errorf("%w: starting plugin: %w", ErrUnavailable, err)
	}
	return startPinned(cfg, exe)
}

// startPinned starts exe, which openPinned opened and checked, and closes
// the parent's copy of it: the child holds its own once started, and start
// returns only after the start or its failure.
func startPinned(cfg LaunchConfig, exe *os.File) (*Client, error) {
	defer exe.Close()
	secure, err := runPinned(&cfg, exe)
	if err != nil {
		return nil, fmt.Errorf("%w: starting plugin: %w", ErrUnavailable, err)
	}
	return start(cfg, secure)
}

// start runs cfg.Cmd under go-plugin and connects to it. secure is go-plugin's
// own (path-based) checksum check, for platforms that cannot run an open file.
func start(cfg LaunchConfig, secure *plugin.SecureConfig) (*Client, error) {
	stderr := newStderrLog(cfg.Logger, cfg.Cmd.Path)
	gp := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          plugin.PluginSet{pluginName: &grpcPlugin{}},
		Cmd:              cfg.Cmd,
		SecureConfig:     secure,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         true,
		GRPCDialOptions: []grpc.DialOption{
			grpc.WithInitialWindowSize(flowWindow), grpc.WithInitialConnWindowSize(flowWindow),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.ForceCodecV2(newWireCodec())),
		},
		Logger:       stderr.goPluginLogger(cfg.Logger),
		Stderr:       stderr,
		StartTimeout: cfg.StartTimeout,
		// A command with its own environment gets that environment and no
		// more; go-plugin would add this process's (exec's rule: nil means
		// this process's environment).
		SkipHostEnv: cfg.Cmd.Env != nil,
	})
	c, err := connect(gp, cfg.Unary)
	if err != nil {
		stopPlugin(gp, cfg.Cmd, cfg.Logger) // returns once go-plugin has read all of stderr
		return nil, stderr.explain(err)
	}
	return c, nil
}

// executablePath is the file cmd would run: a relative Path is relative to
// cmd.Dir when that is set.
func executablePath(cmd *exec.Cmd) string {
	if cmd.Dir != "" && !filepath.IsAbs(cmd.Path) {
		return filepath.Join(cmd.Dir, cmd.Path)
	}
	return cmd.Path
}

// openPinned opens the executable at path without following a symlink,
// checks that it is a regular file and that its SHA-256, read from the open
// file, is want. The caller runs and closes the returned file; on a mismatch
// nothing has been started.
func openPinned(path string, want []byte) (*os.File, error) {
	f, err := openNoFollow(path)
	if err != nil {
		return nil, fmt.Errorf("opening the pinned executable: %w", err)
	}
	if err := checkPinned(f, path, want); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkPinned hashes f itself, never its path, so the verdict is about the
// bytes the caller goes on to run.
func checkPinned(f *os.File, path string, want []byte) error {
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading the pinned executable: %w", err)
	}
	if err := NotRegular(fi.Mode()); err != nil {
		return fmt.Errorf("the pinned executable %s: %w; point the plugin's command in realmd.yml at the executable itself", path, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hashing the pinned executable %s: %w", path, err)
	}
	if got := h.Sum(nil); subtle.ConstantTimeCompare(got, want) != 1 {
		return fmt.Errorf("%w: %s has SHA-256 %x, but the plugin is pinned to %x; "+
			"if this build is the one you trust, set the plugin's sha256 in realmd.yml to the new value, otherwise put the pinned build back",
			ErrChecksumMismatch, path, got, want)
	}
	return nil
}

// symlinkError refuses a pinned executable that is a symlink: the link could
// be pointed elsewhere between any check and the start.
func symlinkError(path string) error {
	return fmt.Errorf("the pinned executable %s is a symlink: point the plugin's command in realmd.yml at the real file, or copy the file into plugin_directory", path)
}

func connect(gp *plugin.Client, unary bool) (*Client, error) {
	protocol, err := gp.Client()
	if err != nil {
		return nil, fmt.Errorf("%w: starting plugin: %w", ErrUnavailable, err)
	}
	raw, err := protocol.Dispense(pluginName)
	if err != nil {
		return nil, fmt.Errorf("%w: dispensing plugin: %w", ErrUnavailable, err)
	}
	c, err := newClient(raw.(pb.RealmClient), unary)
	if err != nil {
		return nil, err
	}
	c.gp = gp
	return c, nil
}

// The host's queue of calls waiting for the stream is bounded, so that a
// plugin that stops reading costs realmd a bounded amount of memory; past
// either bound a call fails at once with ErrUnavailable. The queue only
// grows while a send is blocked: the plugin holds 64 calls in service and
// 1024 queued, and 16 MiB more fill the HTTP/2 window, before realmd's
// sends wait at all. 4096 calls is far more than realmd has in flight
// (each pipeline stage runs at most 128 jobs at once); 64 MiB leaves room
// for large headers (one call larger than that still goes when the queue
// is empty). They are variables for tests.
var (
	maxQueuedCalls = 4096
	maxQueuedBytes = 64 << 20
)

// newClient opens the call stream on rpc and starts receiving from it.
func newClient(rpc pb.RealmClient, unary bool) (*Client, error) {
	ctx, cancel := context.WithCancelCause(context.Background())
	c := &Client{
		rpc:     rpc,
		unary:   unary,
		ctx:     ctx,
		cancel:  cancel,
		pending: map[uint64]chan *pb.Reply{},
		done:    make(chan struct{}),
		owed:    map[uint64]int64{},
		kick:    make(chan struct{}, 1),
	}
	var err error
	c.stream, err = c.rpc.Exchange(ctx)
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("%w: opening call stream: %w", ErrUnavailable, err)
	}
	c.calls = &batcher[outgoing]{
		send:       c.sendCalls,
		size:       func(o outgoing) int { return o.call.SizeVT() },
		limit:      maxQueuedCalls,
		limitBytes: maxQueuedBytes,
	}
	go c.receive()
	go c.flushCancels()
	return c, nil
}

// Pid is the plugin's process id, or 0.
func (c *Client) Pid() int {
	if rc := c.gp.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Done is closed when the call stream breaks, which happens when the plugin
// process dies, Kill is called, or the plugin stops reading its calls (see
// stuckAfter).
func (c *Client) Done() <-chan struct{} { return c.done }

// Answering reports whether the plugin answers the calls it is sent. It
// turns false when a call sent to the plugin is overdue (see answerGrace)
// and the plugin has answered no call since: a process that is stopped or
// wedged, or a realm whose calls all hang. It turns true again when the
// plugin answers a call. The watch looks every second; over the unary
// transport, which has no watch, it is always true.
func (c *Client) Answering() bool { return !c.unanswered.Load() }

// Answered is how many calls the plugin has answered, with a result or an
// error: a plugin that answered one has proved it can serve.
func (c *Client) Answered() int64 { return c.answered.Load() }

// Exited reports whether the plugin process has exited.
func (c *Client) Exited() bool { return c.gp.Exited() }

// go-plugin's Kill asks the plugin to shut down and waits for its answer
// with no limit of its own, so a plugin that is stopped (SIGSTOP) or wedged
// held Kill, and with it realmd's shutdown and every reload that replaced
// it, for ever, and left the process behind (found by review). Kill
// therefore gives go-plugin killGrace, then kills the process itself and
// waits at most killWait more for go-plugin to reap it and read the last of
// its stderr. They are variables for tests.
var (
	killGrace = 5 * time.Second
	killWait  = 5 * time.Second
)

// Kill stops the plugin: it closes the connection, waits briefly for a clean
// exit, then kills the process. It returns within killGrace + killWait
// (about 10 s) even when the plugin does not answer, and logs a plugin it
// had to kill. It is safe to call more than once; a second call returns
// once the first has.
func (c *Client) Kill() {
	c.cancel(nil)
	if c.gp == nil {
		return
	}
	c.kill.Do(c.stop)
}

func (c *Client) stop() { stopPlugin(c.gp, c.cmd, c.logger) }

// stopPlugin runs go-plugin's Kill under killGrace, then kills the plugin's
// process group: the plugin, if it still runs, and any process it started
// that holds its stderr open (go-plugin's Kill waits for that pipe to
// close, so a helper the plugin left behind held it for ever).
func stopPlugin(gp *plugin.Client, cmd *exec.Cmd, logger hclog.Logger) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		gp.Kill()
	}()
	grace := time.NewTimer(killGrace)
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.C:
	}
	pid := 0
	if cmd != nil && cmd.Process != nil {
		pid = cmd.Process.Pid
	}
	if gp.Exited() {
		logger.Warn("plugin exited, but processes it started hold its output open; killing them", "pid", pid, "grace", killGrace)
	} else {
		logger.Warn("plugin did not stop within the grace period; killing it", "pid", pid, "grace", killGrace)
	}
	if err := killTree(cmd); err != nil {
		logger.Error("killing the plugin", "pid", pid, "error", err)
	}
	wait := time.NewTimer(killWait)
	defer wait.Stop()
	select {
	case <-done:
	case <-wait.C:
		logger.Error("plugin still not reaped after it was killed; giving up on it", "pid", pid, "waited", killGrace+killWait)
	}
}

// Describe asks the plugin what it serves.
func (c *Client) Describe(ctx context.Context) (Description, error) {
	d, err := c.rpc.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return Description{}, fmt.Errorf("%w: describe: %w", ErrUnavailable, err)
	}
	return Description{
		Name:           d.GetName(),
		Version:        d.GetVersion(),
		Authenticators: d.GetAuthenticators(),
		Backends:       d.GetBackends(),
		Authorizers:    d.GetAuthorizers(),
	}, nil
}

// Configure validates, and unless cfg.ValidateOnly provisions, the instance.
// A refused configuration is a value: Configured.Problems.
func (c *Client) Configure(ctx context.Context, cfg Configuration) (Configured, error) {
	r, err := c.rpc.Configure(ctx, &pb.ConfigureRequest{
		Role:         roleToWire(cfg.Role),
		Type:         cfg.Type,
		Instance:     cfg.Instance,
		ConfigJson:   cfg.JSON,
		ConfigDir:    cfg.Dir,
		ValidateOnly: cfg.ValidateOnly,
		// Configured.Warnings carries them to the caller, which shows them.
		HostShowsWarnings: true,
	})
	if err != nil {
		return Configured{}, fmt.Errorf("%w: configure: %w", ErrUnavailable, err)
	}
	out := Configured{Inputs: inputsFromWire(r.GetInputs()), Challenge: challengeFromWire(r.GetChallenge()), Files: r.GetFiles()}
	for _, p := range r.GetProblems() {
		out.Problems = append(out.Problems, Problem{Key: p.GetKey(), Message: p.GetMessage()})
	}
	for _, p := range r.GetWarnings() {
		out.Warnings = append(out.Warnings, Problem{Key: p.GetKey(), Message: p.GetMessage()})
	}
	return out, nil
}

// Extract asks an authenticator for the credentials in r. A nil result with a
// nil error means none were found; reason says why, for debug logs.
func (c *Client) Extract(ctx context.Context, r *Request) (creds *Credentials, reason string, err error) {
	reply, err := c.call(ctx, &pb.Call{Kind: &pb.Call_Extract{Extract: requestToWire(r)}})
	if err != nil {
		return nil, "", err
	}
	if !reply.GetFound() {
		return nil, reply.GetReason(), nil
	}
	return credentialsFromWire(reply.GetCredentials()), "", nil
}

// Authenticate asks a backend to verify creds. A nil user with a nil error
// means the credentials were rejected.
func (c *Client) Authenticate(ctx context.Context, creds *Credentials) (user *User, reason string, err error) {
	reply, err := c.call(ctx, &pb.Call{Kind: &pb.Call_Authenticate{Authenticate: credentialsToWire(creds)}})
	if err != nil {
		return nil, "", err
	}
	if !reply.GetFound() {
		return nil, reply.GetReason(), nil
	}
	return userFromWire(reply.GetUser()), "", nil
}

// Authorize asks an authorizer for u's extra roles.
func (c *Client) Authorize(ctx context.Context, u *User) (*Grant, error) {
	reply, err := c.call(ctx, &pb.Call{Kind: &pb.Call_Authorize{Authorize: userToWire(u)}})
	if err != nil {
		return nil, err
	}
	if g := grantFromWire(reply.GetGrant()); g != nil {
		return g, nil
	}
	return &Grant{}, nil
}

// call sends one call and waits for its reply.
func (c *Client) call(ctx context.Context, call *pb.Call) (*pb.Reply, error) {
	if err := checkCall(call); err != nil {
		return nil, fmt.Errorf("%w: cannot send the call: %w", ErrMalformed, err)
	}
	if ctx.Err() != nil {
		// Sending would race the plugin's answer against ctx.Done.
		return nil, callerGone(ctx)
	}
	var reply *pb.Reply
	var err error
	if c.unary {
		call.TimeoutMs, _ = timeoutMs(ctx, time.Now())
		reply, err = c.rpc.Invoke(ctx, call)
		if err != nil {
			err = c.transportError(ctx, err)
		} else {
			c.answered.Add(1)
		}
	} else {
		reply, err = c.exchange(ctx, call)
	}
	if err != nil {
		return nil, err
	}
	if err := errorFromWire(reply.GetError()); err != nil {
		return nil, err
	}
	return reply, nil
}

func (c *Client) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return callerGone(ctx)
	}
	return fmt.Errorf("%w: plugin connection: %w", ErrUnavailable, err)
}

// callerGone is a call's error when its caller's ctx ended first.
func callerGone(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
}

func (c *Client) exchange(ctx context.Context, call *pb.Call) (*pb.Reply, error) {
	call.Id = c.nextID.Add(1)
	ch := make(chan *pb.Reply, 1)
	c.mu.Lock()
	if c.broken != nil {
		err := c.broken
		c.mu.Unlock()
		return nil, err
	}
	c.pending[call.Id] = ch
	c.mu.Unlock()

	if err := c.calls.add(outgoing{call, ctx}); err != nil {
		c.forget(call.Id)
		if errors.Is(err, errQueueFull) {
			return nil, fmt.Errorf("%w: the plugin is not keeping up: %w", ErrUnavailable, err)
		}
		if ctx.Err() != nil {
			return nil, callerGone(ctx)
		}
		return nil, c.streamError(err)
	}
	select {
	case reply := <-ch:
		if reply == nil {
			return nil, c.Err()
		}
		return reply, nil
	case <-ctx.Done():
		c.abandon(call.Id)
		return nil, callerGone(ctx)
	}
}

// abandon forgets the call id, whose caller left before its reply came,
// and queues id for the plugin to cancel: an LDAP search or JWKS fetch for
// a client that went away, a reload or a call without a deadline would
// otherwise run on to its deadline or for ever. The next message carries
// the id; flushCancels sends it alone when no send is under way, so the
// caller that leaves never waits on the stream. Whether the call was sent
// is decided when the id is (see takeCancels): it may be leaving right now.
// A reply that still comes finds no waiter and is dropped.
func (c *Client) abandon(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	queued := c.broken == nil && len(c.cancels) < maxQueuedCalls
	if queued {
		c.cancels = append(c.cancels, id)
	}
	c.mu.Unlock()
	if queued {
		select {
		case c.kick <- struct{}{}:
		default: // a kick is pending already
		}
	}
}

// flushCancels sends the queued cancels each time abandon kicks it, until
// the stream breaks. It adds an empty item to the call batcher: a send
// under way then carries the cancels in its next message, and otherwise
// this goroutine sends them alone. (A full queue means a send is under
// way.) It is one goroutine per plugin; nothing is added per call.
func (c *Client) flushCancels() {
	for {
		select {
		case <-c.done:
			return
		case <-c.kick:
			_ = c.calls.add(outgoing{}) // a failed send breaks the stream, which receive reports
		}
	}
}

// takeCancels returns the queued cancels and empties the queue, keeping
// only the ids of calls sent and not answered yet: a call whose caller left
// before it was sent was never sent (see sendCalls), and one answered
// meanwhile needs no cancel. c.mu must be held; the calls of the message
// about to leave are owed already, so a call whose caller left while it
// was being sent is cancelled in the same message (the plugin applies a
// message's cancels after its calls).
func (c *Client) takeCancels() []uint64 {
	if len(c.cancels) == 0 {
		return nil
	}
	ids := c.cancels[:0]
	for _, id := range c.cancels {
		if _, ok := c.owed[id]; ok {
			ids = append(ids, id)
		}
	}
	c.cancels = nil
	return ids
}

// outgoing is a call waiting for the stream, with its caller's context.
// One with no call is flushCancels' prompt to send the queued cancels.
type outgoing struct {
	call *pb.Call
	ctx  context.Context
}

// sendCalls sends the calls of batch whose callers still wait, each with
// the time left to its deadline as it leaves: time spent queued here counts
// against it, and a call whose caller has given up is not sent at all (after
// a stall, the plugin would otherwise run every abandoned call, with a fresh
// budget). The message also carries the queued cancels (see abandon), and
// goes with cancels alone when no call is left. Only the batcher's current
// sender calls it, so c.sendBuf is its own.
func (c *Client) sendCalls(batch []outgoing) error {
	now := time.Now()
	calls := c.sendBuf[:0]
	longest := int64(0)
	unbounded := false // a call without a deadline: the message has none
	for _, o := range batch {
		if o.call == nil {
			continue // flushCancels' prompt
		}
		if o.ctx.Err() != nil {
			continue // its caller has returned
		}
		ms, live := timeoutMs(o.ctx, now)
		if !live {
			continue // its caller returns as its timer fires
		}
		o.call.TimeoutMs = ms
		longest = max(longest, ms)
		unbounded = unbounded || ms == 0
		calls = append(calls, o.call)
	}
	if longest > c.longest.Load() {
		c.longest.Store(longest)
	}
	var err error
	if cancels := c.owe(calls, now, longest, unbounded); len(calls) > 0 || len(cancels) > 0 {
		err = c.stream.Send(&pb.Calls{Calls: calls, Cancel: cancels})
	}
	clear(calls) // the calls are their callers'; keep none alive
	c.sendBuf = calls[:0]
	return err
}

// A call is overdue answerGrace after its deadline. A plugin built on this
// SDK answers every call by its deadline when its realm honours ctx (a call
// that waited past it is answered at once, unrun), so a call still
// unanswered answerGrace later, with no other answer since, means the
// plugin has stopped answering. Two seconds leave room for a busy machine;
// a false alarm costs a moment of not-ready, no restart. It is a variable
// for tests.
var answerGrace = 2 * time.Second

// owe records calls, about to leave at now in one message, as owed an
// answer. The plugin's SDK gives the calls of one message one deadline,
// the latest of theirs (longest ms), and none when one of them has none
// (unbounded): a call is overdue answerGrace after that, or stuckAfter
// after now when there is none. It is recorded before the send, so that
// no reply can come before it. It returns the cancels the message carries
// (see takeCancels).
func (c *Client) owe(calls []*pb.Call, now time.Time, longest int64, unbounded bool) (cancels []uint64) {
	due := now.Add(time.Duration(longest)*time.Millisecond + answerGrace)
	if unbounded {
		due = now.Add(stuckAfter)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, call := range calls {
		c.owed[call.GetId()] = due.UnixNano()
	}
	return c.takeCancels()
}

// overdue reports, at now, how many owed calls are overdue since the
// plugin's last reply, and the earliest time one of them fell due: the
// plugin is not answering when n > 0.
func (c *Client) overdue(now time.Time) (n int, since time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := now.UnixNano()
	first := int64(0)
	for _, due := range c.owed {
		if due <= t && due > c.lastReply {
			n++
			if first == 0 || due < first {
				first = due
			}
		}
	}
	if n == 0 {
		return 0, time.Time{}
	}
	return n, time.Unix(0, first)
}

// timeoutMs is a call's timeout_ms as it leaves at now: the time left to
// ctx's deadline in whole milliseconds, at least 1, or 0 when ctx has no
// deadline. live is false when the deadline has passed.
func timeoutMs(ctx context.Context, now time.Time) (ms int64, live bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return 0, true
	}
	left := dl.Sub(now)
	return max(left.Milliseconds(), 1), left > 0
}

func (c *Client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Err says why the connection ended: the plugin's end of the stream
// closed (it exited or crashed), Kill, or the watch found the plugin stuck.
// It is nil until Done closes.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken
}

// streamError says why the stream broke with err: Kill, the watch, or the
// plugin's end.
func (c *Client) streamError(err error) error {
	switch cause := context.Cause(c.ctx); cause {
	case nil:
		return fmt.Errorf("%w: plugin stream closed: %w", ErrUnavailable, err)
	case context.Canceled:
		return fmt.Errorf("%w: plugin stopped", ErrUnavailable)
	default:
		return fmt.Errorf("%w: %w", ErrUnavailable, cause)
	}
}

// receive delivers replies to their callers until the stream breaks, then
// fails every pending call with ErrUnavailable.
func (c *Client) receive() {
	for {
		batch, err := c.stream.Recv()
		if err != nil {
			c.mu.Lock()
			c.broken = c.streamError(err)
			for id, ch := range c.pending {
				ch <- nil
				delete(c.pending, id)
			}
			c.mu.Unlock()
			close(c.done)
			return
		}
		now := time.Now().UnixNano()
		c.mu.Lock()
		c.lastReply = now
		for _, reply := range batch.GetReplies() {
			delete(c.owed, reply.GetId())
			if ch, ok := c.pending[reply.GetId()]; ok {
				delete(c.pending, reply.GetId())
				ch <- reply
			}
		}
		c.mu.Unlock()
		c.answered.Add(int64(len(batch.GetReplies())))
	}
}

// A plugin that leaves a call message unread for stuckAfter, and for twice
// the longest deadline realmd has sent it, is stuck: realmd ends the
// connection, which fails its calls and has the supervisor restart it.
// While a plugin is saturated it reads again as soon as a call ends; one
// whose realm honours ctx ends every call it holds by that call's
// deadline, which realmd's request_timeout bounds (10 s by default).
// Thirty seconds is three times that, and short enough that a wedged
// plugin does not hold a domain down for long. stuckCheck is how often the
// watch looks: the only cost, once a second per plugin, is one lock. They
// are variables for tests.
var (
	stuckAfter = 30 * time.Second
	stuckCheck = time.Second
)

// watch ends the connection when one send stays blocked longer than after
// (see stuckAfter), and tells whether the plugin answers its calls (see
// Answering), looking every every. It returns when Done closes.
func (c *Client) watch(logger hclog.Logger, after, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var s stall
	for {
		select {
		case <-c.done:
			return
		case now := <-t.C:
			c.checkAnswers(logger, now)
			sending, rounds := c.calls.progress()
			blocked := s.observe(now, sending, rounds)
			limit := max(after, 2*time.Duration(c.longest.Load())*time.Millisecond)
			if blocked < limit {
				continue
			}
			logger.Error("plugin stopped reading its calls; restarting it", "for", blocked.Round(time.Second))
			c.cancel(fmt.Errorf("plugin stopped reading its calls for %v", blocked.Round(time.Second)))
			return
		}
	}
}

// checkAnswers updates Answering at now, and logs when it changes.
func (c *Client) checkAnswers(logger hclog.Logger, now time.Time) {
	n, since := c.overdue(now)
	switch was := c.unanswered.Load(); {
	case n > 0 && !was:
		c.unanswered.Store(true)
		logger.Error("plugin is not answering its calls; reporting it not ready until it answers",
			"overdue_calls", n, "overdue_for", now.Sub(since).Round(time.Millisecond), "grace", answerGrace,
			"hint", "the plugin's process may be stopped (SIGSTOP) or starved of CPU, or its realm may wait on a dependency without honouring the call's deadline; "+
				"its calls fail as unavailable meanwhile, and realmd restarts it once it also stops reading them")
	case n == 0 && was:
		c.unanswered.Store(false)
		logger.Info("plugin answers its calls again")
	}
}

// stall tells, from periodic looks at a batcher's progress, how long its
// current send has been blocked.
type stall struct {
	since   time.Time
	sending bool
	rounds  uint64
}

// observe records a look at now and returns how long the send under way
// has been blocked at least: since an earlier look that saw the same send
// under way and nothing finish since. It is 0 when no send is under way.
func (s *stall) observe(now time.Time, sending bool, rounds uint64) time.Duration {
	if !sending || !s.sending || rounds != s.rounds {
		*s = stall{since: now, sending: sending, rounds: rounds}
		return 0
	}
	return now.Sub(s.since)
}
