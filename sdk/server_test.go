package sdk

import (
	"context"
	"errors"
	"net"
	"reflect"
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
	srv := newServer(Plugin{Name: "ctx", Backends: map[string]Factory[Backend]{
		"ctx": func(*Config) (Backend, error) { return ctxBackend{}, nil },
	}}, hclog.NewNullLogger())
	in, err := srv.build(RoleBackend, "ctx", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.instance.Store(in)
	t.Cleanup(srv.stop)
	stream := rawExchange(t, srv)
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
