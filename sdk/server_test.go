package sdk

import (
	"context"
	"errors"
	"net"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

func TestBatchContext_LatestDeadlineReleasedByTheLastCall(t *testing.T) {
	calls := []*pb.Call{{Id: 1, TimeoutMs: 1000}, {Id: 2, TimeoutMs: 3000}, {Id: 3, TimeoutMs: 2000}}
	start := time.Now()
	b := newBatchContext(context.Background(), calls)
	dl, ok := b.ctx.Deadline()
	if !ok || dl.Before(start.Add(3*time.Second)) || dl.After(time.Now().Add(3*time.Second)) {
		t.Fatalf("deadline %v (ok %v), want 3 s from now", dl, ok)
	}
	b.done()
	b.done()
	if b.ctx.Err() != nil {
		t.Fatal("released before the last call finished")
	}
	b.done()
	if b.ctx.Err() == nil {
		t.Fatal("not released after the last call finished")
	}
}

func TestBatchContext_OneUnboundedCallUnboundsTheBatch(t *testing.T) {
	b := newBatchContext(context.Background(), []*pb.Call{{Id: 1, TimeoutMs: 1000}, {Id: 2}})
	if dl, ok := b.ctx.Deadline(); ok {
		t.Fatalf("deadline %v, want none", dl)
	}
}

// heldAuthn is an authenticator whose Extract waits for release, and which
// records its Cleanup.
type heldAuthn struct {
	name    string
	entered chan struct{}
	release chan struct{}
	cleaned chan struct{}
}

func (heldAuthn) Inputs() Inputs { return Inputs{} }
func (a heldAuthn) Extract(context.Context, *Request) (*Credentials, error) {
	a.entered <- struct{}{}
	<-a.release
	return &Credentials{Username: a.name}, nil
}
func (a heldAuthn) Cleanup() error { close(a.cleaned); return nil }

// A reload's new instance does not clean up the old one under a call still
// running on it: the call finishes on the old instance, then Cleanup runs
// (found by review: the jwt realm's key set was closed under a running
// lookup, a data race and a 503 for a key the provider had).
func TestConfigure_CleanupWaitsForTheCallsOfTheOldInstance(t *testing.T) {
	realms := map[string]heldAuthn{}
	s := newServer(Plugin{Name: "held", Authenticators: map[string]Factory[Authenticator]{
		"held": func(cfg *Config) (Authenticator, error) {
			a := heldAuthn{name: cfg.String("name", ""), entered: make(chan struct{}, 1), release: make(chan struct{}), cleaned: make(chan struct{})}
			realms[a.name] = a
			return a, nil
		},
	}}, hclog.NewNullLogger())
	t.Cleanup(s.stop)
	configure := func(name string) {
		t.Helper()
		resp, err := s.Configure(context.Background(), &pb.ConfigureRequest{Role: pb.Role_ROLE_AUTHENTICATOR, Type: "held",
			Instance: "authc.x.http_authenticator", ConfigJson: []byte(`{"name": "` + name + `"}`)})
		if err != nil || len(resp.GetProblems()) > 0 {
			t.Fatalf("configure %s: %v, %v", name, resp.GetProblems(), err)
		}
	}
	extract := &pb.Call{Id: 1, Kind: &pb.Call_Extract{Extract: &pb.Request{}}}
	configure("old")
	old := realms["old"]
	replied := make(chan *pb.Reply, 1)
	go func() { replied <- s.handle(context.Background(), extract) }()
	<-old.entered
	configure("new")
	select {
	case <-old.cleaned:
		t.Fatal("the old instance was cleaned up under its running call")
	case <-time.After(50 * time.Millisecond):
	}
	close(old.release)
	if r := <-replied; r.GetCredentials().GetUsername() != "old" {
		t.Fatalf("the running call answered %v, want old's credentials", r)
	}
	select {
	case <-old.cleaned:
	case <-time.After(5 * time.Second):
		t.Fatal("the old instance was never cleaned up after its last call")
	}
	next := realms["new"]
	close(next.release)
	if r := s.handle(context.Background(), extract); r.GetCredentials().GetUsername() != "new" {
		t.Fatalf("a later call answered %v, want new's credentials", r)
	}
	select {
	case <-next.cleaned:
		t.Fatal("the current instance was cleaned up")
	default:
	}
}

// panicky is an authenticator that panics where its config says.
type panicky struct{ at string }

func (p panicky) Inputs() Inputs {
	if p.at == "inputs" {
		panic("inputs")
	}
	return Inputs{}
}
func (p panicky) Challenge() Challenge {
	if p.at == "challenge" {
		panic("challenge")
	}
	return Challenge{}
}
func (panicky) Extract(context.Context, *Request) (*Credentials, error) { return nil, nil }
func (p panicky) Provision(context.Context) error {
	if p.at == "provision" {
		panic("provision")
	}
	return nil
}
func (p panicky) Cleanup() error {
	if p.at == "cleanup" {
		panic("cleanup")
	}
	return nil
}

// A realm that panics while being configured is a refused config with a
// message, not a crashed plugin (found by review: the operator saw only
// "error reading from server: EOF"). A factory that returns an error keeps
// the problems and warnings it recorded before.
func TestConfigure_PanicsAndFactoryErrorsAreProblems(t *testing.T) {
	s := newServer(Plugin{Name: "p", Authenticators: map[string]Factory[Authenticator]{
		"p": func(cfg *Config) (Authenticator, error) {
			at := cfg.String("panic_at", "")
			if at == "factory" {
				panic("factory")
			}
			if cfg.Bool("return_err", false) {
				cfg.String("address", "")
				cfg.Problem("address", "is required")
				return nil, cfg.Err()
			}
			if cfg.Bool("fail", false) {
				cfg.Int("port", 0)
				cfg.Warn("fail", "failing on purpose")
				return nil, errors.New("factory failed")
			}
			return panicky{at: at}, nil
		},
	}}, hclog.NewNullLogger())
	t.Cleanup(s.stop)
	tests := []struct {
		json         string
		validateOnly bool
		want         []Problem // nil: accepted
		wantWarnings int
	}{
		{json: `{"panic_at": "factory"}`, want: []Problem{{Message: "the realm panicked while being configured: factory (the stack is in realmd's log)"}}},
		{json: `{"panic_at": "inputs"}`, validateOnly: true, want: []Problem{{Message: "the realm panicked while being configured: inputs (the stack is in realmd's log)"}}},
		{json: `{"panic_at": "challenge"}`, want: []Problem{{Message: "the realm panicked while being configured: challenge (the stack is in realmd's log)"}}},
		{json: `{"panic_at": "provision"}`, want: []Problem{{Message: "the realm panicked while being configured: provision (the stack is in realmd's log)"}}},
		{json: `{"panic_at": "cleanup"}`, validateOnly: true},
		// cfg.Err() holds the problems already recorded: each is shown
		// once (found by review), and an unread key is unknown.
		{json: `{"return_err": true, "x_typo": 1}`,
			want: []Problem{{Key: "address", Message: "is required"}, {Key: "x_typo", Message: `unknown key "x_typo"; the keys allowed here are: address, panic_at, return_err`}}},
		{json: `{"fail": true, "port": "x", "other": 1}`, wantWarnings: 1,
			want: []Problem{{Key: "port", Message: `must be a whole number, not "x"`}, {Message: "factory failed"}}},
	}
	for _, tt := range tests {
		resp, err := s.Configure(context.Background(), &pb.ConfigureRequest{Role: pb.Role_ROLE_AUTHENTICATOR, Type: "p",
			Instance: "authc.x.http_authenticator", ConfigJson: []byte(tt.json), ValidateOnly: tt.validateOnly, HostShowsWarnings: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []Problem
		for _, p := range resp.GetProblems() {
			got = append(got, Problem{Key: p.GetKey(), Message: p.GetMessage()})
		}
		if !reflect.DeepEqual(got, tt.want) || len(resp.GetWarnings()) != tt.wantWarnings {
			t.Errorf("%s: problems %q, warnings %v; want %q and %d warnings", tt.json, got, resp.GetWarnings(), tt.want, tt.wantWarnings)
		}
	}
}

// slowCleanup is an authenticator whose Cleanup waits for release.
type slowCleanup struct{ release chan struct{} }

func (slowCleanup) Inputs() Inputs                                          { return Inputs{} }
func (slowCleanup) Extract(context.Context, *Request) (*Credentials, error) { return nil, nil }
func (c slowCleanup) Cleanup() error                                        { <-c.release; return nil }

// At exit the plugin waits for the Cleanup of an instance a reload
// replaced, not only for the current one's (found by review: the process
// could exit in the middle of it).
func TestStop_WaitsForTheCleanupOfReplacedInstances(t *testing.T) {
	release, quick := make(chan struct{}), make(chan struct{})
	close(quick)
	built := 0
	s := newServer(Plugin{Name: "slow", Authenticators: map[string]Factory[Authenticator]{
		"slow": func(cfg *Config) (Authenticator, error) {
			if built++; built == 1 {
				return slowCleanup{release: release}, nil
			}
			return slowCleanup{release: quick}, nil // the current one cleans up at once
		},
	}}, hclog.NewNullLogger())
	for range 2 { // the second replaces the first, whose Cleanup now waits
		resp, err := s.Configure(context.Background(), &pb.ConfigureRequest{Role: pb.Role_ROLE_AUTHENTICATOR, Type: "slow", Instance: "authc.x.http_authenticator"})
		if err != nil || len(resp.GetProblems()) > 0 {
			t.Fatalf("configure: %v, %v", resp.GetProblems(), err)
		}
	}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		s.stop()
	}()
	select {
	case <-stopped:
		t.Fatal("stop returned while a replaced instance's Cleanup was running")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing
		t.Fatal("stop did not return after every Cleanup had")
	}
}

// rawExchange opens an Exchange stream to srv over loopback gRPC, without
// a Client, so that a test can send any message a host could.
func rawExchange(t *testing.T, srv pb.RealmServer) pb.Realm_ExchangeClient {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.ForceServerCodecV2(newWireCodec()))
	pb.RegisterRealmServer(gs, srv)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(newWireCodec())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	stream, err := pb.NewRealmClient(conn).Exchange(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return stream
}

// ctxBackend answers at once, except the user "wait", whose call waits
// until its ctx ends.
type ctxBackend struct{}

func (ctxBackend) Authenticate(ctx context.Context, c *Credentials) (*User, error) {
	if c.Username == "wait" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return &User{Name: c.Username}, nil
}

// A cancel for a call that has finished, or for an id never sent, is
// ignored; one in the same message as its call cancels that call, which is
// answered unavailable; the stream serves on.
func TestExchange_CancelsForUnknownAndFinishedCallsAreHarmless(t *testing.T) {
	stream := rawExchange(t, backendServer(t, "ctx", ctxBackend{}))
	replies := make(chan *pb.Replies, 10)
	go func() {
		for {
			r, err := stream.Recv()
			if err != nil {
				return
			}
			replies <- r
		}
	}()
	call := func(id uint64, user string) *pb.Call {
		return &pb.Call{Id: id, Kind: &pb.Call_Authenticate{Authenticate: &pb.Credentials{Username: user}}}
	}
	exchange := func(m *pb.Calls) *pb.Reply {
		t.Helper()
		if err := stream.Send(m); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-replies:
			if len(r.GetReplies()) != 1 {
				t.Fatalf("got %d replies, want 1", len(r.GetReplies()))
			}
			return r.GetReplies()[0]
		case <-time.After(10 * time.Second): // a guard against a hang, not a timing
			t.Fatalf("no reply to %v", m)
			return nil
		}
	}

	if r := exchange(&pb.Calls{Calls: []*pb.Call{call(1, "first")}}); r.GetId() != 1 || r.GetUser().GetName() != "first" {
		t.Fatalf("the first call: %v", r)
	}
	if err := stream.Send(&pb.Calls{Cancel: []uint64{1, 99}}); err != nil { // finished, never sent
		t.Fatal(err)
	}
	if r := exchange(&pb.Calls{Calls: []*pb.Call{call(2, "second")}}); r.GetId() != 2 || r.GetUser().GetName() != "second" || r.GetError() != nil {
		t.Fatalf("a call after cancels of a finished and an unknown id: %v", r)
	}
	r := exchange(&pb.Calls{Calls: []*pb.Call{call(3, "wait")}, Cancel: []uint64{3}})
	if r.GetId() != 3 || !errors.Is(errorFromWire(r.GetError()), ErrUnavailable) {
		t.Fatalf("a call cancelled in its own message: %v, want an unavailable reply", r)
	}
	if r := exchange(&pb.Calls{Calls: []*pb.Call{call(4, "fourth")}}); r.GetId() != 4 || r.GetUser().GetName() != "fourth" {
		t.Fatalf("a call after a cancelled one: %v", r)
	}
}

// memExchange is an Exchange stream in memory, without gRPC: Recv takes
// the messages sent on in, Send hands replies to out.
type memExchange struct {
	grpc.ServerStream
	ctx context.Context
	in  chan *pb.Calls
	out chan *pb.Replies
}

func (m *memExchange) Context() context.Context { return m.ctx }

func (m *memExchange) Recv() (*pb.Calls, error) {
	select {
	case c := <-m.in:
		return c, nil
	case <-m.ctx.Done():
		return nil, m.ctx.Err()
	}
}

func (m *memExchange) Send(r *pb.Replies) error {
	select {
	case m.out <- r:
		return nil
	case <-m.ctx.Done():
		return m.ctx.Err()
	}
}

// staticBackend answers every call with the same user and never looks at
// ctx, as a JWT realm in static mode.
type staticBackend struct{ user *User }

func (b staticBackend) Authenticate(context.Context, *Credentials) (*User, error) { return b.user, nil }

// A call that nobody cancels, to a realm that never asks for ctx.Done(),
// gets no context, timer or map entry of its own: a message of six such
// calls allocates its batch's context and what the calls and replies
// themselves need, not two or three more per call (which a review of the
// per-call cancel measured at about a third of the plugin's own cost of a
// fast JWT call).
func TestExchange_UncancelledCallsCostNoContextEach(t *testing.T) {
	srv := backendServer(t, "static", staticBackend{&User{Name: "u"}})
	ctx, cancel := context.WithCancel(context.Background())
	stream := &memExchange{ctx: ctx, in: make(chan *pb.Calls), out: make(chan *pb.Replies)}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Exchange(stream)
	}()
	t.Cleanup(func() { cancel(); <-served })

	msg := &pb.Calls{}
	for id := range uint64(6) {
		msg.Calls = append(msg.Calls, &pb.Call{Id: id, TimeoutMs: 5000, Kind: &pb.Call_Authenticate{Authenticate: &pb.Credentials{Username: "u"}}})
	}
	answered := 0
	allocs := testing.AllocsPerRun(200, func() {
		stream.in <- msg
		for n := 0; n < len(msg.Calls); {
			r := <-stream.out
			n += len(r.GetReplies())
			answered += len(r.GetReplies())
		}
	})
	if answered == 0 {
		t.Fatal("no call was answered")
	}
	// Each call needs its Credentials, its Reply and its wire User (3), the
	// batch its context, timer and call contexts (5), each message of
	// replies itself and its slice (2, and the six replies may go in up to
	// six). The per-call WithCancel and map entry added about 14 more.
	t.Logf("%.0f allocations per message of %d calls", allocs, len(msg.Calls))
	if limit := 3.0*6 + 5 + 2*6; allocs > limit {
		t.Fatalf("%.0f allocations per message of 6 calls nobody cancels, want at most %.0f", allocs, limit)
	}
}

// within fails the test unless ch is closed soon (a guard against a hang,
// not a timing).
func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: not closed", what)
	}
}

// isClosed reports whether ch is closed, without waiting.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// unboundedCalls are n calls without a deadline: their batch's context is
// the one newBatchContext is given.
func unboundedCalls(n int) []*pb.Call {
	calls := make([]*pb.Call, n)
	for i := range calls {
		calls[i] = &pb.Call{Id: uint64(i + 1)}
	}
	return calls
}

// A call's context reports nothing while it runs, Canceled once the host
// cancels it (its batch's other calls run on), and its batch's error once
// the batch ends first; an error once reported stays.
func TestCallContext_ErrIsTheCancelsOrTheBatchs(t *testing.T) {
	b := newBatchContext(context.Background(), []*pb.Call{{Id: 1, TimeoutMs: 50}, {Id: 2, TimeoutMs: 50}, {Id: 3, TimeoutMs: 50}})
	cancelled, expiring, answered := &b.calls[0], &b.calls[1], &b.calls[2]
	for i := range b.calls {
		c := &b.calls[i]
		if err := c.Err(); err != nil {
			t.Fatalf("call %d: Err %v while it runs", c.id, err)
		}
	}
	if dl, ok := cancelled.Deadline(); !ok || dl != func() time.Time { d, _ := b.ctx.Deadline(); return d }() {
		t.Fatalf("Deadline %v, %v: want the batch's", dl, ok)
	}
	cancelled.cancel()
	if err := cancelled.Err(); err != context.Canceled {
		t.Fatalf("a cancelled call: Err %v, want context.Canceled", err)
	}
	if err := expiring.Err(); err != nil {
		t.Fatalf("another call of the batch: Err %v after the first was cancelled", err)
	}
	answered.end(&errCanceled)
	if err := answered.Err(); err != context.Canceled {
		t.Fatalf("an answered call: Err %v, want context.Canceled", err)
	}
	within(t, b.ctx.Done(), "the batch's deadline")
	if err := expiring.Err(); err != context.DeadlineExceeded {
		t.Fatalf("a call whose batch passed its deadline: Err %v, want context.DeadlineExceeded", err)
	}
	if err := cancelled.Err(); err != context.Canceled {
		t.Fatalf("a call cancelled before its batch's deadline: Err %v after it, want context.Canceled still", err)
	}
	expiring.cancel() // a cancel after the batch ended
	if err := expiring.Err(); err != context.DeadlineExceeded {
		t.Fatalf("a late cancel changed Err to %v", err)
	}
}

// Done's channel is made only when asked for, and closed when the call is
// cancelled, when its batch ends, or (when asked for after) at once.
func TestCallContext_DoneIsMadeLazilyAndClosedEitherWay(t *testing.T) {
	parent, endBatch := context.WithCancel(context.Background())
	defer endBatch()
	b := newBatchContext(parent, unboundedCalls(3))
	cancelled, batchEnds, late := &b.calls[0], &b.calls[1], &b.calls[2]
	for i := range b.calls {
		c := &b.calls[i]
		_ = c.Err()
		if c.watch.Load() != nil {
			t.Fatalf("call %d: a channel or a watch of the batch before Done was asked for", c.id)
		}
	}

	d := cancelled.Done()
	if d == nil || isClosed(d) || cancelled.Done() != d {
		t.Fatal("Done of a running call: want the same open channel each time")
	}
	cancelled.cancel()
	if !isClosed(d) {
		t.Fatal("Done not closed by the call's cancel")
	}
	if batchEnds.Err() != nil || isClosed(batchEnds.Done()) {
		t.Fatal("a cancel ended another call of the batch")
	}

	late.cancel()
	if !isClosed(late.Done()) {
		t.Fatal("Done first asked for after the cancel: not closed")
	}

	d = batchEnds.Done()
	endBatch()
	within(t, d, "Done of a call whose batch ended")
	if err := batchEnds.Err(); err != context.Canceled {
		t.Fatalf("Err %v after the batch ended, want its context.Canceled", err)
	}
	if err := cancelled.Err(); err != context.Canceled {
		t.Fatalf("the cancelled call: Err %v", err)
	}
}

// A context a realm derives from its call's (a timeout per LDAP operation)
// ends with the call, by the time the cancel returns, and package context
// follows the call for it without a goroutine each; context.AfterFunc
// works alike.
func TestCallContext_DerivedContextsEndWithTheCall(t *testing.T) {
	b := newBatchContext(context.Background(), unboundedCalls(2))
	c, other := &b.calls[0], &b.calls[1]

	before := runtime.NumGoroutine()
	var releases []context.CancelFunc
	for range 100 {
		_, release := context.WithTimeout(other, time.Minute)
		releases = append(releases, release)
	}
	if n := runtime.NumGoroutine() - before; n >= 50 {
		t.Errorf("100 contexts derived from a call's started %d goroutines, want none", n)
	}
	for _, release := range releases {
		release()
	}
	if other.Err() != nil {
		t.Fatal("releasing derived contexts ended their call's")
	}

	child, cancelChild := context.WithTimeout(c, time.Minute)
	defer cancelChild()
	ran := make(chan struct{})
	context.AfterFunc(c, func() { close(ran) })
	var stopped atomic.Bool
	stop := context.AfterFunc(c, func() { stopped.Store(true) })
	if !stop() || stop() {
		t.Fatal("stop of a pending AfterFunc: want true once, then false")
	}
	c.cancel()
	if !isClosed(child.Done()) {
		t.Fatal("a context derived from a call was not done when the call's cancel returned")
	}
	if err := child.Err(); err != context.Canceled {
		t.Fatalf("the derived context: Err %v, want context.Canceled", err)
	}
	within(t, ran, "an AfterFunc of a cancelled call")
	if stopped.Load() {
		t.Fatal("a stopped AfterFunc ran")
	}
	after, cancelAfter := context.WithTimeout(c, time.Minute)
	defer cancelAfter()
	if !isClosed(after.Done()) {
		t.Fatal("a context derived from an ended call is not done")
	}
	ranLate := make(chan struct{})
	if context.AfterFunc(c, func() { close(ranLate) })() {
		t.Fatal("stop of an AfterFunc of an ended call said it stopped it")
	}
	within(t, ranLate, "an AfterFunc registered after the call ended")
}

// context.Cause agrees with Err for a call's context: a call the host
// cancelled, or that was answered, before its batch ended has the cause
// Canceled, whether Done was asked for or not, and only a call that the
// batch's end ended has the batch's cause. (Package context took the cause
// of an unwatched call from its batch: a call cancelled first reported the
// batch's later cause.)
func TestCallContext_CauseAgreesWithErr(t *testing.T) {
	parent, endBatch := context.WithCancelCause(context.Background())
	b := newBatchContext(parent, unboundedCalls(5))
	cancelledFirst, answeredFirst, watchedFirst, batchEnds, watchedEnds := &b.calls[0], &b.calls[1], &b.calls[2], &b.calls[3], &b.calls[4]
	if err, cause := batchEnds.Err(), context.Cause(batchEnds); err != nil || cause != nil {
		t.Fatalf("a running call: Err %v, Cause %v; want nil for both", err, cause)
	}
	cancelledFirst.cancel()
	answeredFirst.end(&errCanceled)
	_ = watchedFirst.Done()
	watchedFirst.cancel()
	_ = watchedEnds.Done()
	hostLeft := errors.New("the host went away")
	endBatch(hostLeft)
	for _, c := range []*callContext{cancelledFirst, answeredFirst, watchedFirst} {
		if err, cause := c.Err(), context.Cause(c); err != context.Canceled || cause != err {
			t.Errorf("call %d, ended before its batch: Err %v, Cause %v; want context.Canceled for both", c.id, err, cause)
		}
	}
	for _, c := range []*callContext{batchEnds, watchedEnds} {
		if err, cause := c.Err(), context.Cause(c); err != context.Canceled || cause != hostLeft {
			t.Errorf("call %d, ended by its batch: Err %v, Cause %v; want context.Canceled and the batch's cause", c.id, err, cause)
		}
	}
}

// A call answered after its batch ended (the realm saw Done closed and
// returned without asking Err) reports the batch's error, and Cause agrees:
// the answer does not claim a cancel that came second (found by review).
func TestCallContext_AnAnswerAfterTheBatchEndedKeepsTheBatchsError(t *testing.T) {
	parent, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	b := newBatchContext(parent, unboundedCalls(1))
	c := &b.calls[0]
	<-c.Done() // the realm's select sees it closed
	c.answered()
	if err, cause := c.Err(), context.Cause(c); err != context.DeadlineExceeded || cause != err {
		t.Fatalf("Err %v, Cause %v; want context.DeadlineExceeded for both", err, cause)
	}
}

// Cancels, the answer, the batch's end, Done, Err and derived contexts may
// all race: whatever ends the call first wins, and a closed Done always
// comes with an error (run with -race).
func TestCallContext_RacesAreHarmless(t *testing.T) {
	for range 1000 {
		parent, endBatch := context.WithCancel(context.Background())
		b := newBatchContext(parent, unboundedCalls(1))
		c := &b.calls[0]
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, f := range []func(){
			c.cancel,
			func() { c.end(&errCanceled) },
			endBatch,
			func() {
				<-c.Done()
				if c.Err() == nil {
					t.Error("Done closed while Err is nil")
				}
			},
			func() {
				child, cancel := context.WithTimeout(c, time.Minute)
				defer cancel()
				<-child.Done()
			},
			func() { _ = c.Err() },
		} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				f()
			}()
		}
		close(start)
		wg.Wait()
		if c.Err() != context.Canceled {
			t.Fatalf("Err %v, want context.Canceled (whoever won)", c.Err())
		}
		if !isClosed(c.Done()) {
			t.Fatal("an ended call's Done is open")
		}
	}
}

// A cancel finds its call in any message not yet answered, the newest call
// of an id, however many messages came since; answered messages are
// dropped from the list as it grows.
func TestRunning_CancelFindsCallsOfEveryUnansweredMessage(t *testing.T) {
	var r running
	old := newBatchContext(context.Background(), []*pb.Call{{Id: 1}, {Id: 2}})
	r.add(old)
	var reused *batchContext
	for i := range 1000 {
		b := newBatchContext(context.Background(), []*pb.Call{{Id: uint64(100 + i)}})
		if i == 500 {
			reused = newBatchContext(context.Background(), []*pb.Call{{Id: 2}})
			r.add(reused)
		}
		r.add(b)
		b.calls[0].end(&errCanceled)
		b.done()
	}
	if len(r.batches) > 2*64 {
		t.Fatalf("%d messages kept, with 2 not answered", len(r.batches))
	}
	r.cancel([]uint64{1, 2, 100, 99999})
	if old.calls[0].Err() != context.Canceled {
		t.Fatal("a call of the first message was not cancelled")
	}
	if old.calls[1].Err() != nil || reused.calls[0].Err() != context.Canceled {
		t.Fatal("a reused id: want its newest call cancelled, and only that")
	}
}

func benchmarkBatch6(b *testing.B, derive bool) {
	var run running
	b.ReportAllocs()
	id := uint64(0)
	for b.Loop() {
		calls := make([]*pb.Call, 6)
		for j := range calls {
			id++
			calls[j] = &pb.Call{Id: id, TimeoutMs: 5000}
		}
		bc := newBatchContext(context.Background(), calls)
		run.add(bc)
		for j := range calls {
			c := &bc.calls[j]
			_ = c.Err()
			if derive {
				ctx, cancel := context.WithTimeout(c, time.Second)
				_ = ctx.Done()
				cancel()
			}
			c.end(&errCanceled)
			bc.done()
		}
	}
}

// BenchmarkExchange_Batch6 is the plugin's per-call path for a message of
// six calls (as the worker runs it: Err, answered, batch released), with
// the message's calls made as they are decoded; derived: each call's realm
// derives a timeout context and waits on its Done, as the LDAP realm does.
func BenchmarkExchange_Batch6(b *testing.B) {
	b.Run("err", func(b *testing.B) { benchmarkBatch6(b, false) })
	b.Run("derived", func(b *testing.B) { benchmarkBatch6(b, true) })
}
