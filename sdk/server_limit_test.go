package sdk

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// servedClient connects a Client to srv over loopback gRPC with the
// options Serve and Launch use, without go-plugin.
func servedClient(t *testing.T, srv pb.RealmServer) *Client {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer(grpc.InitialWindowSize(flowWindow), grpc.InitialConnWindowSize(flowWindow),
		grpc.MaxRecvMsgSize(maxCallsMessage), grpc.ForceServerCodecV2(newWireCodec()))
	pb.RegisterRealmServer(gs, srv)
	go gs.Serve(lis)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithInitialWindowSize(flowWindow), grpc.WithInitialConnWindowSize(flowWindow),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage), grpc.ForceCodecV2(newWireCodec())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := newClient(pb.NewRealmClient(conn), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	return c
}

// backendServer is a plugin server configured with b as its backend
// (plugin and type name), stopped when the test ends.
func backendServer(t *testing.T, name string, b Backend) *server {
	t.Helper()
	srv := newServer(Plugin{Name: name, Backends: map[string]Factory[Backend]{
		name: func(*Config) (Backend, error) { return b, nil },
	}}, hclog.NewNullLogger())
	in, err := srv.build(RoleBackend, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.instance.Store(in)
	t.Cleanup(srv.stop)
	return srv
}

// sizedBackend answers a user with an attribute of as many bytes as the
// password's length says.
type sizedBackend struct{}

func (sizedBackend) Authenticate(_ context.Context, c *Credentials) (*User, error) {
	return &User{Name: c.Username, Attributes: map[string]string{"blob": strings.Repeat("a", len(c.Password))}}, nil
}

// A reply larger than maxReply fails its own call with ErrInternal; the
// stream and the other calls go on (found by review: replies had no bound,
// and a plugin could make realmd allocate twice a 2 GiB reply).
func TestServer_AnOversizedReplyFailsItsCallOnly(t *testing.T) {
	c := servedClient(t, backendServer(t, "sized", sizedBackend{}))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	_, _, err := c.Authenticate(ctx, &Credentials{Username: "big", Password: make([]byte, maxReply+1)})
	if !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "exceeds 16 MiB") {
		t.Fatalf("a reply over the bound: got %v, want ErrInternal saying it exceeds 16 MiB", err)
	}
	u, _, err := c.Authenticate(ctx, &Credentials{Username: "small", Password: make([]byte, 1000)})
	if err != nil || u == nil || len(u.Attributes["blob"]) != 1000 {
		t.Fatalf("a call after the oversized reply: %v, %v", u, err)
	}
	select {
	case <-c.Done():
		t.Fatal("the stream broke")
	default:
	}
}

// countingBackend counts the calls that reach the realm.
type countingBackend struct{ calls *int }

func (b countingBackend) Authenticate(_ context.Context, c *Credentials) (*User, error) {
	*b.calls++
	return &User{Name: c.Username}, nil
}

// A call whose time ran out while it waited in the plugin never reaches the
// realm (found by review: a plugin catching up after a stall ran every
// abandoned call).
func TestServer_AnExpiredCallDoesNotReachTheRealm(t *testing.T) {
	calls := 0
	srv := backendServer(t, "counting", countingBackend{&calls})
	call := &pb.Call{Id: 1, Kind: &pb.Call_Authenticate{Authenticate: credentialsToWire(&Credentials{Username: "late"})}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reply := srv.handle(ctx, call)
	if calls != 0 || !errors.Is(errorFromWire(reply.GetError()), ErrUnavailable) {
		t.Fatalf("an expired call: realm called %d times, reply error %v; want no call and ErrUnavailable", calls, reply.GetError())
	}
	if reply := srv.handle(context.Background(), call); calls != 1 || reply.GetError() != nil {
		t.Fatalf("a live call: realm called %d times, reply error %v", calls, reply.GetError())
	}
}
