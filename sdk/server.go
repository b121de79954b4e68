package sdk

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// Each call stream is served by exchangeWorkers long-lived goroutines
// (long-lived so their stacks stay grown), with up to maxQueued calls
// waiting for one; beyond that the stream stops reading and gRPC flow
// control pushes back on the host.
const (
	exchangeWorkers = 64
	maxQueued       = 1024
)

// maxReply bounds one reply's encoded size; a larger one becomes an
// ErrInternal reply for its call. An answer is an identity (a name, roles,
// attributes: kilobytes); 16 MiB is the sdk.ReadFile bound, and a quarter
// of what realmd accepts in one message (maxMessage), which a well-behaved
// plugin must never exceed: that breaks the stream for every call in flight.
const maxReply = 16 << 20

// instance is one configured realm: exactly one of the three is set.
type instance struct {
	role          Role
	authenticator Authenticator
	backend       Backend
	authorizer    Authorizer

	// active counts the calls running on the instance. Once it is retired
	// (replaced by a new Configure, or at exit), the last of them cleans
	// it up: a realm's Cleanup never runs under a call of its own.
	active  atomic.Int64
	retired atomic.Bool
	cleaned sync.Once
	done    chan struct{} // closed when Cleanup has returned
}

// acquire returns the current instance for one call, or nil when there is
// none; release it when the call is answered.
func (s *server) acquire() *instance {
	for {
		in := s.instance.Load()
		if in == nil {
			return nil
		}
		in.active.Add(1)
		if !in.retired.Load() {
			return in
		}
		s.release(in) // replaced meanwhile: take its successor
	}
}

// release ends a call on in, and cleans in up if it was the last call of a
// retired instance.
func (s *server) release(in *instance) {
	if in.active.Add(-1) == 0 && in.retired.Load() {
		s.finish(in)
	}
}

// retire marks in as replaced: it is cleaned up once its last call has
// been answered, at once when none is running.
func (s *server) retire(in *instance) {
	in.retired.Store(true)
	if in.active.Load() == 0 {
		s.finish(in)
	}
	s.retireMu.Lock()
	defer s.retireMu.Unlock()
	s.retiring = slices.DeleteFunc(s.retiring, func(r *instance) bool {
		select {
		case <-r.done:
			return true
		default:
			return false
		}
	})
	s.retiring = append(s.retiring, in)
}

// finish runs in's Cleanup once, in a goroutine of its own: neither a call
// nor Configure waits for it.
func (s *server) finish(in *instance) {
	in.cleaned.Do(func() {
		go func() {
			defer close(in.done)
			cleanup(in, s.logger)
		}()
	})
}

func (in *instance) value() any {
	switch in.role {
	case RoleAuthenticator:
		return in.authenticator
	case RoleBackend:
		return in.backend
	}
	return in.authorizer
}

// server implements the wire contract on top of a Plugin.
type server struct {
	pb.UnimplementedRealmServer
	plugin Plugin
	logger hclog.Logger

	mu       sync.Mutex // serialises Configure
	instance atomic.Pointer[instance]

	retireMu sync.Mutex
	retiring []*instance // retired, and maybe not cleaned up yet: stop waits for them

}

func newServer(p Plugin, logger hclog.Logger) *server {
	return &server{plugin: p, logger: logger}
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (s *server) Describe(context.Context, *pb.DescribeRequest) (*pb.DescribeResponse, error) {
	return &pb.DescribeResponse{
		Name:           s.plugin.Name,
		Version:        s.plugin.Version,
		Authenticators: sortedKeys(s.plugin.Authenticators),
		Backends:       sortedKeys(s.plugin.Backends),
		Authorizers:    sortedKeys(s.plugin.Authorizers),
	}, nil
}

// build runs the factory for role and typ.
func (s *server) build(role Role, typ string, cfg *Config) (*instance, error) {
	in := &instance{role: role, done: make(chan struct{})}
	var err error
	var found bool
	switch role {
	case RoleAuthenticator:
		var f Factory[Authenticator]
		if f, found = s.plugin.Authenticators[typ]; found {
			in.authenticator, err = f(cfg)
		}
	case RoleBackend:
		var f Factory[Backend]
		if f, found = s.plugin.Backends[typ]; found {
			in.backend, err = f(cfg)
		}
	case RoleAuthorizer:
		var f Factory[Authorizer]
		if f, found = s.plugin.Authorizers[typ]; found {
			in.authorizer, err = f(cfg)
		}
	}
	if !found {
		return nil, fmt.Errorf("plugin %q does not serve %s type %q", s.plugin.Name, role, typ)
	}
	return in, err
}

func (s *server) Configure(ctx context.Context, req *pb.ConfigureRequest) (resp *pb.ConfigureResponse, _ error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	logger := s.logger.Named(req.GetInstance())
	var built *instance // cleaned up if a panic leaves it unused
	defer func() {
		if r := recover(); r != nil {
			logger.Error("realm panicked while being configured", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if built != nil && s.instance.Load() != built {
				cleanup(built, logger)
			}
			resp = problemResponse(Problem{Message: fmt.Sprintf("the realm panicked while being configured: %v (the stack is in realmd's log)", r)})
		}
	}()
	cfg, err := NewConfig(req.GetConfigJson(), req.GetConfigDir(), logger)
	if err != nil {
		return problemResponse(Problem{Key: "", Message: err.Error()}), nil
	}
	in, err := s.build(roleFromWire(req.GetRole()), req.GetType(), cfg)
	built = in
	// Warnings go back to realmd with every answer; the plugin does not
	// log them, or each would be logged once per pass of the factory. A
	// host that predates warnings would drop them: for it, the plugin logs
	// them itself, in the pass that is not validate-only.
	warnings := problemsToWire(cfg.Warnings())
	if !req.GetHostShowsWarnings() && !req.GetValidateOnly() {
		for _, w := range cfg.Warnings() {
			logger.Warn("config warning", "key", w.Key, "warning", w.Message)
		}
	}
	refuse := func(ps ...Problem) *pb.ConfigureResponse {
		resp := problemResponse(ps...)
		resp.Warnings = warnings
		return resp
	}
	if err != nil {
		return refuse(factoryProblems(cfg, err)...), nil
	}
	if ps := cfg.Problems(); len(ps) > 0 {
		return refuse(ps...), nil
	}
	if in.value() == nil {
		return refuse(Problem{Message: fmt.Sprintf("plugin %q: the %s factory for type %q returned no instance and no problem", s.plugin.Name, in.role, req.GetType())}), nil
	}
	resp = &pb.ConfigureResponse{Files: cfg.Files(), Warnings: warnings}
	if in.role == RoleAuthenticator {
		resp.Inputs = inputsToWire(in.authenticator.Inputs())
		if c, ok := in.authenticator.(Challenger); ok {
			resp.Challenge = challengeToWire(c.Challenge())
		}
	}
	if req.GetValidateOnly() {
		cleanup(in, logger)
		return resp, nil
	}
	if p, ok := in.value().(Provisioner); ok {
		if err := p.Provision(ctx); err != nil {
			cleanup(in, logger)
			return refuse(errorProblem(err, "provisioning: ")), nil
		}
	}
	if old := s.instance.Swap(in); old != nil {
		s.retire(old)
	}
	logger.Debug("configured", "role", in.role.String(), "type", req.GetType())
	return resp, nil
}

// factoryProblems are the problems of a factory that returned err: those
// it recorded, which say more than the error it returned after them, then
// err's own, each once (a factory may return cfg.Err(), which holds them
// all). Keys it did not read are not called unknown: it may have stopped
// before reading them.
func factoryProblems(cfg *Config, err error) []Problem {
	ps := slices.Clone(cfg.problems)
	for _, p := range errorProblems(err) {
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return ps
}

// errorProblems is err as problems: one per error that errors.Join put in
// it, each as errorProblem makes it.
func errorProblems(err error) []Problem {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var ps []Problem
		for _, e := range j.Unwrap() {
			ps = append(ps, errorProblems(e)...)
		}
		return ps
	}
	return []Problem{errorProblem(err, "")}
}

// errorProblem is a factory's or Provision's error as a problem, its
// message after prefix: at the key of an sdk.Problem in err's chain, else
// at the config as a whole.
func errorProblem(err error, prefix string) Problem {
	var p Problem
	var pp *Problem
	switch {
	case errors.As(err, &p):
	case errors.As(err, &pp) && pp != nil:
		p = *pp
	default:
		return Problem{Key: "", Message: prefix + err.Error()}
	}
	return Problem{Key: p.Key, Message: prefix + p.Message}
}

// problemResponse answers a refused configuration with its problems.
func problemResponse(ps ...Problem) *pb.ConfigureResponse {
	return &pb.ConfigureResponse{Problems: problemsToWire(ps)}
}

// problemsToWire makes problems (or warnings) sendable: a message may quote
// a config value that is not UTF-8, which a proto3 string refuses.
func problemsToWire(ps []Problem) []*pb.Problem {
	var out []*pb.Problem
	for _, p := range ps {
		out = append(out, &pb.Problem{Key: strings.ToValidUTF8(p.Key, "\uFFFD"), Message: strings.ToValidUTF8(p.Message, "\uFFFD")})
	}
	return out
}

// cleanup runs in's Cleanup, if it has one; a panic in it is logged, not
// fatal.
func cleanup(in *instance, logger hclog.Logger) {
	c, ok := in.value().(Cleaner)
	if !ok {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			logger.Error("realm panicked in Cleanup", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	if err := c.Cleanup(); err != nil {
		logger.Warn("cleanup failed", "error", err)
	}
}

// stopWait bounds how long stop waits for the calls still running, and then
// for Cleanup: a realm that ignores its context must not keep the process
// from exiting.
const stopWait = 5 * time.Second

// stop cleans up the current instance once its calls have finished, and
// waits for every instance retired before it to be cleaned up too; Serve
// calls it on the way out.
func (s *server) stop() {
	if in := s.instance.Swap(nil); in != nil {
		s.retire(in)
	}
	s.retireMu.Lock()
	pending := slices.Clone(s.retiring)
	s.retireMu.Unlock()
	deadline := time.NewTimer(stopWait)
	defer deadline.Stop()
	for _, in := range pending {
		select {
		case <-in.done:
		case <-deadline.C:
			s.logger.Warn("exiting before the realm's last calls and cleanup finished", "waited", stopWait)
			return
		}
	}
}

// handle answers one call within ctx, which carries the call's deadline. It
// never panics the process: a panicking realm answers ErrInternal for that
// call.
func (s *server) handle(ctx context.Context, call *pb.Call) (reply *pb.Reply) {
	reply = &pb.Reply{Id: call.GetId()}
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("realm panicked", "panic", fmt.Sprint(r))
			reply = &pb.Reply{Id: call.GetId(), Error: errorToWire(fmt.Errorf("%w: realm panicked: %v", ErrInternal, r))}
		}
	}()
	in := s.acquire()
	if in == nil {
		reply.Error = errorToWire(ErrNotConfigured)
		return reply
	}
	defer s.release(in)
	if err := ctx.Err(); err != nil {
		// The call's time ran out, or the host cancelled it, while it
		// waited for a worker: its caller has gone, so the realm is spared
		// the work (a plugin catching up after a stall would otherwise run
		// every abandoned call).
		reply.Error = errorToWire(fmt.Errorf("%w: the call's caller left or its deadline passed before it ran: %w", ErrUnavailable, err))
		return reply
	}
	var err error
	switch k := call.GetKind().(type) {
	case *pb.Call_Extract:
		if in.authenticator == nil {
			err = fmt.Errorf("%w: %s cannot extract credentials", ErrUnsupported, in.role)
			break
		}
		var c *Credentials
		c, err = in.authenticator.Extract(ctx, requestFromWire(k.Extract))
		reply.Found = c != nil
		reply.Credentials = credentialsToWire(c)
	case *pb.Call_Authenticate:
		if in.backend == nil {
			err = fmt.Errorf("%w: %s cannot authenticate", ErrUnsupported, in.role)
			break
		}
		var u *User
		u, err = in.backend.Authenticate(ctx, credentialsFromWire(k.Authenticate))
		reply.Found = u != nil
		reply.User = userToWire(u)
	case *pb.Call_Authorize:
		if in.authorizer == nil {
			err = fmt.Errorf("%w: %s cannot authorize", ErrUnsupported, in.role)
			break
		}
		var g *Grant
		g, err = in.authorizer.Authorize(ctx, userFromWire(k.Authorize))
		reply.Found = g != nil
		reply.Grant = grantToWire(g)
	default:
		err = fmt.Errorf("%w: empty call", ErrUnsupported)
	}
	if err == nil {
		if bad := checkReply(reply); bad != nil {
			s.logger.Error("failing a call whose answer cannot be sent", "error", bad)
			reply = &pb.Reply{Id: call.GetId()}
			err = fmt.Errorf("%w: the realm's answer cannot be sent: %w", ErrInternal, bad)
		}
	}
	if err != nil {
		// A realm that stops for its deadline, or because the host
		// cancelled the call, is unavailable, not broken.
		ended := errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil && errors.Is(err, context.Canceled)
		if ended && !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		reply.Error = errorToWire(err)
	}
	return reply
}

func (s *server) Invoke(ctx context.Context, call *pb.Call) (*pb.Reply, error) {
	ctx, cancel := withTimeoutMs(ctx, call.GetTimeoutMs())
	defer cancel()
	reply, _ := s.bound(s.handle(ctx, call))
	return reply, nil
}

// bound returns reply, or an ErrInternal reply for its call when reply is
// larger than maxReply, and the size of what it returns.
func (s *server) bound(reply *pb.Reply) (*pb.Reply, int) {
	n := reply.SizeVT()
	if n <= maxReply {
		return reply, n
	}
	err := fmt.Errorf("%w: reply of %d bytes exceeds %d MiB", ErrInternal, n, maxReply>>20)
	s.logger.Error("failing a call whose answer is too large", "error", err)
	reply = &pb.Reply{Id: reply.GetId(), Error: errorToWire(err)}
	return reply, reply.SizeVT()
}

// withTimeoutMs bounds ctx by a call's timeout_ms; 0 is no bound.
func withTimeoutMs(ctx context.Context, ms int64) (context.Context, context.CancelFunc) {
	if ms <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
}

// batchContext is the context of every call in one Exchange message: one
// deadline, the latest of theirs, and one timer instead of one per call. The
// calls of a message left the host together with the same budget, so none
// gets more than a few microseconds of extra time, and the host gives up on
// each call at its own deadline anyway. The last call to finish releases it.
// Each call's own context (see callContext) is allocated with it.
type batchContext struct {
	ctx     context.Context
	cancel  context.CancelFunc
	pending atomic.Int32
	calls   []callContext // by the index of their call in the message
}

func newBatchContext(ctx context.Context, calls []*pb.Call) *batchContext {
	var latest int64
	for _, c := range calls {
		if ms := c.GetTimeoutMs(); ms <= 0 {
			latest = 0 // one call without a bound: the batch has none
			break
		} else if ms > latest {
			latest = ms
		}
	}
	b := &batchContext{calls: make([]callContext, len(calls))}
	b.ctx, b.cancel = withTimeoutMs(ctx, latest)
	for i, c := range calls {
		b.calls[i].batch = b
		b.calls[i].id = c.GetId()
	}
	b.pending.Store(int32(len(calls)))
	return b
}

// done marks one call answered.
func (b *batchContext) done() {
	if b.pending.Add(-1) == 0 {
		b.cancel()
	}
}

// callContext is the context of one call of an Exchange message: its
// batch's context, which a cancel from the host (Calls.cancel) ends for
// this call alone, and which ends once its call is answered, so that a
// goroutine the realm left running with it is told. Its deadline is the
// batch's.
//
// A call that is never cancelled, to a realm that only asks Err (or
// nothing), costs its 32 bytes in the batch's slice and nothing else: no
// channel, timer, goroutine, lock or map entry. The first Done makes a
// context.WithCancel of the batch's context and answers with its channel;
// from then on Value answers from it too, so package context finds it
// under c and registers the contexts a realm derives from c (a
// context.WithTimeout per LDAP operation, context.AfterFunc) on it, as on
// any context of its own, without a goroutine each.
//
// err and watch are each set once. Whoever sets the second of them cancels
// the watch's context (end sets err, then looks for a watch; Done sets the
// watch, then looks at err), so a call that has ended and has a watch has
// it cancelled, whichever came first. Err waits for that, so a non-nil Err
// always comes with a closed Done.
type callContext struct {
	batch *batchContext
	id    uint64
	err   atomic.Pointer[error]     // why c ended; nil while it runs
	watch atomic.Pointer[callWatch] // made by the first Done
}

// callWatch is what a call's context needs once something waits on it.
type callWatch struct {
	ctx    context.Context // a WithCancel of the batch's (see Done)
	cancel context.CancelFunc
	done   <-chan struct{} // ctx.Done()
}

// errCanceled is context.Canceled for callContext.err, which stores a
// pointer: &errCanceled costs no allocation.
var errCanceled = context.Canceled

func (c *callContext) Deadline() (time.Time, bool) { return c.batch.ctx.Deadline() }

// Value answers from the watch once there is one. An ended call makes its
// watch first: package context finds the cause of a context's end through
// Value, and a call the host cancelled while its batch ran on would
// otherwise report the batch's cause, or that of the batch's later end.
func (c *callContext) Value(key any) any {
	if c.err.Load() != nil {
		c.Done()
	}
	if w := c.watch.Load(); w != nil {
		return w.ctx.Value(key)
	}
	return c.batch.ctx.Value(key)
}

// Err is nil while the call runs; context.Canceled once it was cancelled
// or answered; the batch's error when the batch ended first.
func (c *callContext) Err() error {
	if c.err.Load() == nil && c.batch.ctx.Err() != nil {
		c.endWithBatch()
	}
	if err := c.err.Load(); err != nil {
		<-c.Done() // closed by whoever set err, if not yet (see end)
		return *err
	}
	return nil
}

// Done is made on first use; see callContext. The watch's context is a
// WithCancel of the batch's, except for a call cancelled or answered
// before Done was asked for: its watch is cancelled at once and keeps the
// batch's values but not its end, whose cause is not the call's.
func (c *callContext) Done() <-chan struct{} {
	if w := c.watch.Load(); w != nil {
		return w.done
	}
	parent := c.batch.ctx
	if c.err.Load() == &errCanceled {
		parent = context.WithoutCancel(parent)
	}
	ctx, cancel := context.WithCancel(parent)
	w := &callWatch{ctx: ctx, cancel: cancel, done: ctx.Done()}
	if !c.watch.CompareAndSwap(nil, w) {
		cancel() // another Done won
		return c.watch.Load().done
	}
	if c.err.Load() != nil {
		cancel() // c ended meanwhile, and end may not have seen w
	}
	return w.done
}

// endWithBatch ends c with its batch's error (c's batch has ended).
func (c *callContext) endWithBatch() {
	err := c.batch.ctx.Err()
	c.end(&err)
}

// cancel ends c for the host, which cancelled its call; a batch that has
// ended already has the first word.
func (c *callContext) cancel() {
	if c.batch.ctx.Err() != nil {
		c.endWithBatch()
		return
	}
	c.end(&errCanceled)
}

// answered ends c once its call is answered, as a cancel does: a batch
// that ended first keeps its error (found by review: a realm that saw Done
// closed by the batch's deadline and returned got Canceled from Err, and
// the deadline from context.Cause).
func (c *callContext) answered() { c.cancel() }

// end ends c with *err, once, and cancels the watch's context if Done was
// asked for (which ends what the realm derived from c). A later end (a
// cancel that races the answer, the batch ending after the call) does
// nothing.
func (c *callContext) end(err *error) {
	if !c.err.CompareAndSwap(nil, err) {
		return
	}
	if w := c.watch.Load(); w != nil {
		w.cancel()
	}
}

// batchCall is one call of an Exchange message with its own context (one
// of its batch's).
type batchCall struct {
	call *pb.Call
	ctx  *callContext
}

// running finds a stream's calls by id for the host's cancels (see
// Calls.cancel in realm.proto), from when they arrive until they are
// answered. It belongs to the goroutine that reads the stream. It keeps
// the stream's messages, one append per message and nothing per call;
// a cancel looks through those with calls not yet answered. An id that
// is not there, unknown or answered already, is ignored.
type running struct {
	batches   []*batchContext
	compactAt int
}

// add records b. Each time the list has doubled since it was last
// compacted, it drops the messages whose calls are all answered: it holds
// at most about twice the messages with calls not yet answered, of which
// a stream has at most maxQueued+exchangeWorkers.
func (r *running) add(b *batchContext) {
	if len(r.batches) >= r.compactAt {
		r.batches = slices.DeleteFunc(r.batches, func(b *batchContext) bool { return b.pending.Load() == 0 })
		r.compactAt = max(2*len(r.batches), 64)
	}
	r.batches = append(r.batches, b)
}

// cancel ends the contexts of the calls ids names that are queued or
// running: for each id, the newest such call that is still listed. realmd
// never reuses an id; for a host that does, a cancel means the newer call,
// but once the message holding that call has been answered and compacted
// away, it reaches an older call with the id that still runs (found by
// review). Their replies are still sent; the host drops them.
func (r *running) cancel(ids []uint64) {
	if len(ids) == 0 {
		return
	}
	left := make(map[uint64]struct{}, len(ids))
	for _, id := range ids {
		left[id] = struct{}{}
	}
	for i := len(r.batches) - 1; i >= 0 && len(left) > 0; i-- {
		b := r.batches[i]
		for j := len(b.calls) - 1; j >= 0; j-- {
			c := &b.calls[j]
			if _, ok := left[c.id]; ok {
				delete(left, c.id)
				c.cancel() // nothing when it is answered already
			}
		}
	}
}

func (s *server) Exchange(stream pb.Realm_ExchangeServer) error {
	ctx := stream.Context()
	calls := make(chan batchCall, maxQueued)
	replies := &batcher[*pb.Reply]{send: func(batch []*pb.Reply) error {
		return stream.Send(&pb.Replies{Replies: batch})
	}, size: (*pb.Reply).SizeVT}
	var run running
	var wg sync.WaitGroup
	for range exchangeWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range calls {
				reply, n := s.bound(s.handle(c.ctx, c.call))
				c.ctx.answered()
				c.ctx.batch.done()
				_ = replies.addSized(reply, n) // a failed send ends the stream
			}
		}()
	}
	defer wg.Wait()
	defer close(calls)
	for {
		batch, err := stream.Recv()
		if err != nil {
			return nil // the host closed the stream or went away
		}
		var bc *batchContext
		if len(batch.GetCalls()) > 0 {
			bc = newBatchContext(ctx, batch.GetCalls())
			run.add(bc)
		}
		// A message's cancels apply once its calls are recorded and before
		// they wait for room in the queue: those for calls of earlier
		// messages, and those for its own (the host cancels a call whose
		// caller left while it was being sent in the same message), which
		// are answered unavailable without running.
		run.cancel(batch.GetCancel())
		for i, call := range batch.GetCalls() {
			select {
			case calls <- batchCall{call: call, ctx: &bc.calls[i]}:
			case <-ctx.Done():
				bc.cancel()
				return nil
			}
		}
	}
}
