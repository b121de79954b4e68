package sdk

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// fakeStream is a call stream whose every Send waits until the test lets it
// through (or the stream ends, as gRPC's does), so a test can hold the
// host's sender and queue calls behind it. It replies what the test puts
// in replies.
type fakeStream struct {
	grpc.BidiStreamingClient[pb.Calls, pb.Replies]
	ctx     context.Context
	entered chan struct{}   // one per Send that begins
	gate    chan struct{}   // one per Send let through
	sent    chan []*pb.Call // what each Send let through carried
	cancels chan []uint64   // and the cancels it carried, after sent
	replies chan *pb.Replies
}

func (f *fakeStream) Send(m *pb.Calls) error {
	f.entered <- struct{}{}
	select {
	case <-f.gate:
		f.sent <- append([]*pb.Call(nil), m.GetCalls()...)
		f.cancels <- append([]uint64(nil), m.GetCancel()...)
		return nil
	case <-f.ctx.Done():
		return f.ctx.Err()
	}
}

func (f *fakeStream) Recv() (*pb.Replies, error) {
	select {
	case r := <-f.replies:
		return r, nil
	case <-f.ctx.Done():
		return nil, f.ctx.Err()
	}
}

type fakeRealmClient struct {
	pb.RealmClient
	stream *fakeStream
}

func (f fakeRealmClient) Exchange(ctx context.Context, _ ...grpc.CallOption) (pb.Realm_ExchangeClient, error) {
	f.stream.ctx = ctx
	return f.stream, nil
}

// heldClient returns a Client whose stream is a fakeStream.
func heldClient(t *testing.T) (*Client, *fakeStream) {
	t.Helper()
	f := &fakeStream{entered: make(chan struct{}, 100), gate: make(chan struct{}), sent: make(chan []*pb.Call, 100), cancels: make(chan []uint64, 100), replies: make(chan *pb.Replies)}
	c, err := newClient(fakeRealmClient{stream: f}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	return c, f
}

// authenticate calls c.Authenticate for user in a goroutine; the channel
// gets its error.
func authenticate(ctx context.Context, c *Client, user string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Authenticate(ctx, &Credentials{Username: user, Password: []byte("pw")})
		done <- err
	}()
	return done
}

// waitQueued waits until n calls wait in c's batcher.
func waitQueued(t *testing.T, c *Client, n int) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		c.calls.mu.Lock()
		q := len(c.calls.queue)
		c.calls.mu.Unlock()
		if q == n {
			return
		}
	}
	t.Fatalf("%d calls never queued", n)
}

func usernames(calls []*pb.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.GetAuthenticate().GetUsername())
	}
	return out
}

// A call that waited in the host's queue leaves with the time left to its
// deadline, not the time it had when it was queued; a call whose caller
// gave up while it waited is not sent (found by review: after a stall the
// plugin ran every abandoned bcrypt and LDAP call with a fresh budget).
func TestClient_QueuedCallsLeaveWithTheirRemainingDeadline(t *testing.T) {
	c, f := heldClient(t)
	first := authenticate(context.Background(), c, "first")
	<-f.entered // the first call's send holds the stream

	cancelled, cancel := context.WithCancel(context.Background())
	gone := authenticate(cancelled, c, "cancelled")
	expiring, cancelExpiring := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelExpiring()
	expired := authenticate(expiring, c, "expired")
	deadline := time.Now().Add(time.Minute)
	waiting, cancelWaiting := context.WithDeadline(context.Background(), deadline)
	defer cancelWaiting()
	live := authenticate(waiting, c, "live")
	waitQueued(t, c, 3)

	cancel()
	for _, ch := range []<-chan error{gone, expired} {
		if err := <-ch; !errors.Is(err, ErrUnavailable) {
			t.Fatalf("a caller that gave up: %v", err)
		}
	}
	released := time.Now() // at least 50ms after live was queued
	f.gate <- struct{}{}
	if got := usernames(<-f.sent); len(got) != 1 || got[0] != "first" {
		t.Fatalf("first message carried %v", got)
	}
	f.gate <- struct{}{}
	calls := <-f.sent
	if got := usernames(calls); len(got) != 1 || got[0] != "live" {
		t.Fatalf("second message carried %v, want only the call whose caller still waits", got)
	}
	if left := deadline.Sub(released).Milliseconds(); calls[0].GetTimeoutMs() > left || calls[0].GetTimeoutMs() <= 0 {
		t.Errorf("the queued call left with timeout_ms %d; at most %d remained when it was sent", calls[0].GetTimeoutMs(), left)
	}
	c.Kill()
	<-first
	<-live
}

// A plugin that stops reading its stream fills the host's queue up to its
// bound; calls past it fail at once, saying why (found by review: 53,794
// queued calls, about 220 MiB, behind one blocked send).
func TestClient_AFullQueueFailsCallsAtOnce(t *testing.T) {
	defer func(n int) { maxQueuedCalls = n }(maxQueuedCalls)
	maxQueuedCalls = 2
	c, f := heldClient(t)
	first := authenticate(context.Background(), c, "first")
	<-f.entered
	queued := []<-chan error{authenticate(context.Background(), c, "a"), authenticate(context.Background(), c, "b")}
	waitQueued(t, c, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // bounds a failing test
	defer cancel()
	_, _, err := c.Authenticate(ctx, &Credentials{Username: "c", Password: []byte("pw")})
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "not keeping up") {
		t.Fatalf("a call past the queue's bound: got %v, want ErrUnavailable saying the plugin is not keeping up", err)
	}
	c.Kill()
	for _, ch := range append(queued, first) {
		if err := <-ch; !errors.Is(err, ErrUnavailable) {
			t.Errorf("a call of a killed client: %v", err)
		}
	}
}

// A send that stays blocked ends the connection: Done closes, so the
// supervisor restarts the plugin, and the calls in flight fail with
// ErrUnavailable (found by review: a plugin that stopped reading hung
// realmd's sender, and Done never closed).
func TestClient_AStuckPluginIsDisconnected(t *testing.T) {
	c, f := heldClient(t)
	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Error})
	go c.watch(logger, 50*time.Millisecond, 5*time.Millisecond)
	first := authenticate(context.Background(), c, "first")
	<-f.entered
	select {
	case <-c.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("Done did not close while the plugin read nothing")
	}
	if err := <-first; !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "stopped reading") {
		t.Errorf("the blocked call: got %v, want ErrUnavailable saying the plugin stopped reading", err)
	}
	if _, _, err := c.Authenticate(context.Background(), &Credentials{Username: "u"}); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "stopped reading") {
		t.Errorf("a later call: got %v", err)
	}
	if !strings.Contains(logs.String(), "plugin stopped reading its calls; restarting it") {
		t.Errorf("log lacks the reason:\n%s", logs.String())
	}
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "stopped reading") {
		t.Errorf("Err = %v, want the reason the connection ended", err)
	}
}

// A plugin is not answering from when a call it was sent is overdue (its
// deadline plus answerGrace) with no answer since, whether or not its
// caller still waits, until it answers; the looks are made at chosen
// times, not waited for.
func TestClient_NotAnsweringFromAnOverdueCallUntilAnAnswer(t *testing.T) {
	c, f := heldClient(t)
	var logs bytes.Buffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	first := authenticate(ctx, c, "first")
	<-f.entered
	f.gate <- struct{}{}
	sent := <-f.sent
	cancel() // the caller gives up; the plugin still owes the answer
	if err := <-first; !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a caller that gave up: %v", err)
	}

	c.checkAnswers(logger, start.Add(time.Minute-time.Second))
	if !c.Answering() {
		t.Fatal("not answering before the call's deadline")
	}
	late := time.Now().Add(time.Minute + answerGrace + time.Second)
	c.checkAnswers(logger, late)
	if c.Answering() {
		t.Fatal("answering, with a call overdue and no answer ever")
	}
	if !strings.Contains(logs.String(), "plugin is not answering its calls") {
		t.Errorf("no log line says the plugin is not answering:\n%s", logs.String())
	}

	f.replies <- &pb.Replies{Replies: []*pb.Reply{{Id: sent[0].GetId()}}}
	for end := time.Now().Add(10 * time.Second); c.Answered() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the reply was never received")
		}
	}
	c.checkAnswers(logger, late)
	if !c.Answering() {
		t.Error("not answering after the plugin answered")
	}
	if !strings.Contains(logs.String(), "plugin answers its calls again") {
		t.Errorf("no log line says the plugin answers again:\n%s", logs.String())
	}
}

func TestStall_MeasuresOneBlockedSendOnly(t *testing.T) {
	t0 := time.Unix(1000, 0)
	type look struct {
		at      time.Duration
		sending bool
		rounds  uint64
		want    time.Duration
	}
	tests := []struct {
		name  string
		looks []look
	}{
		{name: "one send blocked across looks", looks: []look{
			{0, true, 4, 0}, {time.Second, true, 4, time.Second}, {5 * time.Second, true, 4, 5 * time.Second}}},
		{name: "sends that keep finishing", looks: []look{
			{0, true, 4, 0}, {time.Second, true, 6, 0}, {2 * time.Second, true, 9, 0}}},
		{name: "a send that begins after an idle look counts from its first look", looks: []look{
			{0, false, 4, 0}, {time.Second, true, 4, 0}, {3 * time.Second, true, 4, 2 * time.Second}}},
		{name: "idle", looks: []look{{0, false, 4, 0}, {time.Second, false, 4, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stall
			for i, l := range tt.looks {
				if got := s.observe(t0.Add(l.at), l.sending, l.rounds); got != l.want {
					t.Fatalf("look %d: blocked for %v, want %v", i, got, l.want)
				}
			}
		})
	}
}

// waitingBackend is a backend whose Authenticate waits until its ctx ends or
// the test releases the user, and reports how each call ended.
type waitingBackend struct {
	entered  chan string
	release  chan struct{}
	finished chan waitedCall
}

type waitedCall struct {
	user string
	err  error // ctx's error when the call ended by its ctx, else nil
}

func (b waitingBackend) Authenticate(ctx context.Context, c *Credentials) (*User, error) {
	b.entered <- c.Username
	select {
	case <-ctx.Done():
		b.finished <- waitedCall{c.Username, ctx.Err()}
		return nil, ctx.Err()
	case <-b.release:
		b.finished <- waitedCall{c.Username, nil}
		return &User{Name: c.Username}, nil
	}
}

// waitingClient serves a waitingBackend in process and connects a Client
// to it over the real Exchange stream.
func waitingClient(t *testing.T) (*Client, waitingBackend) {
	t.Helper()
	b := waitingBackend{entered: make(chan string, 10), release: make(chan struct{}), finished: make(chan waitedCall, 10)}
	return servedClient(t, backendServer(t, "waiting", b)), b
}

// A call whose caller leaves (the HTTP client went away, the pipeline was
// closed on a reload) is cancelled in the plugin too: the realm's ctx ends
// then, not at request_timeout or, without one, never (found by review: an
// abandoned LDAP search or JWKS fetch ran on to its deadline). A call whose
// caller still waits runs on.
func TestExchange_AnAbandonedCallIsCancelledInThePlugin(t *testing.T) {
	tests := []struct {
		name     string
		deadline time.Duration // 0: none
	}{
		{name: "deadline far away", deadline: time.Hour},
		{name: "no deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, b := waitingClient(t)
			ctx, cancel := context.Background(), context.CancelFunc(func() {})
			if tt.deadline > 0 {
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
			}
			defer cancel()
			kept := authenticate(ctx, c, "kept")
			leaving, leave := context.WithCancel(ctx)
			defer leave()
			left := authenticate(leaving, c, "left")
			for range 2 {
				<-b.entered
			}
			leave()
			if err := <-left; !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.Canceled) {
				t.Fatalf("the caller that left: got %v, want ErrUnavailable and context.Canceled", err)
			}
			select {
			case got := <-b.finished:
				if got.user != "left" || !errors.Is(got.err, context.Canceled) {
					t.Fatalf("the realm saw %q end with %v, want the abandoned call cancelled", got.user, got.err)
				}
			case <-time.After(10 * time.Second): // a guard against a hang, not a timing
				t.Fatal("the realm's ctx did not end after its caller left")
			}
			close(b.release)
			if err := <-kept; err != nil {
				t.Fatalf("the call whose caller waited: %v", err)
			}
			if got := <-b.finished; got.user != "kept" || got.err != nil {
				t.Fatalf("the realm saw %q end with %v, want the waited-for call to run to its end", got.user, got.err)
			}
		})
	}
}

// sendBegins waits for the next send to begin.
func sendBegins(t *testing.T, f *fakeStream) {
	t.Helper()
	select {
	case <-f.entered:
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing
		t.Fatal("no message was sent")
	}
}

// sentMessage lets the send under way through and returns what it carried.
func sentMessage(f *fakeStream) (calls []*pb.Call, cancels []uint64) {
	f.gate <- struct{}{}
	return <-f.sent, <-f.cancels
}

// A call whose caller leaves after it was sent is named in the cancel of a
// message: one of its own when nothing else is being sent, else the next
// message. A call whose caller left before it was sent is not sent and not
// cancelled. The late reply of a cancelled call is dropped, and the
// stream goes on.
func TestClient_AbandonedCallsAreCancelled(t *testing.T) {
	c, f := heldClient(t)
	leaving, leave := context.WithCancel(context.Background())
	defer leave()
	left := authenticate(leaving, c, "left")
	sendBegins(t, f)
	calls, _ := sentMessage(f)
	leftID := calls[0].GetId()
	leave()
	if err := <-left; !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a caller that left: %v", err)
	}
	sendBegins(t, f) // the cancel goes alone: nothing else is being sent
	if calls, cancels := sentMessage(f); len(calls) != 0 || len(cancels) != 1 || cancels[0] != leftID {
		t.Fatalf("the message after a caller left carried calls %v and cancels %v, want only the cancel of %d", usernames(calls), cancels, leftID)
	}

	leaving2, leave2 := context.WithCancel(context.Background())
	defer leave2()
	left2 := authenticate(leaving2, c, "left2")
	sendBegins(t, f)
	calls, _ = sentMessage(f)
	left2ID := calls[0].GetId()
	held := authenticate(context.Background(), c, "held")
	sendBegins(t, f) // held's send is under way
	unsentCtx, leaveUnsent := context.WithCancel(context.Background())
	defer leaveUnsent()
	unsent := authenticate(unsentCtx, c, "unsent")
	next := authenticate(context.Background(), c, "next")
	waitQueued(t, c, 2)
	leave2()
	leaveUnsent()
	for _, ch := range []<-chan error{left2, unsent} {
		if err := <-ch; !errors.Is(err, ErrUnavailable) {
			t.Fatalf("a caller that left: %v", err)
		}
	}
	if calls, cancels := sentMessage(f); len(cancels) != 0 || len(calls) != 1 || calls[0].GetAuthenticate().GetUsername() != "held" {
		t.Fatalf("the held message carried calls %v and cancels %v", usernames(calls), cancels)
	}
	sendBegins(t, f)
	calls, cancels := sentMessage(f)
	if got := usernames(calls); len(got) != 1 || got[0] != "next" || len(cancels) != 1 || cancels[0] != left2ID {
		t.Fatalf("the next message carried calls %v and cancels %v, want next and the cancel of %d only", got, cancels, left2ID)
	}
	nextID := calls[0].GetId()

	f.replies <- &pb.Replies{Replies: []*pb.Reply{{Id: leftID, Found: true, User: &pb.User{Name: "left"}}, {Id: left2ID}}}
	f.replies <- &pb.Replies{Replies: []*pb.Reply{{Id: nextID, Found: true, User: &pb.User{Name: "next"}}}}
	if err := <-next; err != nil {
		t.Fatalf("a call answered after two late replies: %v", err)
	}
	if n := c.Answered(); n != 3 {
		t.Errorf("Answered = %d, want 3", n)
	}
	c.mu.Lock()
	pending, owed := len(c.pending), len(c.owed)
	c.mu.Unlock()
	if pending != 1 || owed != 1 { // held's
		t.Errorf("%d calls pending and %d owed, want held's only", pending, owed)
	}
	c.Kill()
	<-held
}
