package sdk

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

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
