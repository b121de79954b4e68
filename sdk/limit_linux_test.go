//go:build linux

package sdk

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// hugeReplyPluginEnv makes the test binary, re-executed, a plugin that is
// not built with this SDK's server: it answers every call with one reply of
// hugeReply bytes (see TestMain).
const hugeReplyPluginEnv = "REALMD_SDK_HUGE_REPLY_PLUGIN"

// hugeReply is larger than realmd accepts in one message (maxMessage).
const hugeReply = 65 << 20

type hugeReplyRealm struct{ pb.UnimplementedRealmServer }

func (hugeReplyRealm) Exchange(s pb.Realm_ExchangeServer) error {
	blob := strings.Repeat("a", hugeReply)
	for {
		calls, err := s.Recv()
		if err != nil {
			return nil
		}
		for _, c := range calls.GetCalls() {
			r := &pb.Reply{Id: c.GetId(), Found: true, User: &pb.User{Name: "u", Attributes: []*pb.Attribute{{Key: "blob", Value: blob}}}}
			if err := s.Send(&pb.Replies{Replies: []*pb.Reply{r}}); err != nil {
				return err
			}
		}
	}
}

type rawPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	srv pb.RealmServer
}

func (p *rawPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterRealmServer(s, p.srv)
	return nil
}

func (p *rawPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, errors.New("server only")
}

func serveHugeReplies() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{pluginName: &rawPlugin{srv: hugeReplyRealm{}}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}

// A plugin not built with this SDK cannot make realmd take in a reply of
// any size: one over maxMessage breaks the stream, which the supervisor
// handles (found by review: realmd accepted replies up to 2 GiB).
func TestLaunch_AnOversizedMessageBreaksTheStream(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), hugeReplyPluginEnv+"=1")
	c, err := Launch(LaunchConfig{Cmd: cmd, Logger: hclog.NewNullLogger(), StartTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, _, err := c.Authenticate(ctx, &Credentials{Username: "u", Password: []byte("pw")})
	if !errors.Is(err, ErrUnavailable) || ctx.Err() != nil {
		n := 0
		if u != nil {
			n = len(u.Attributes["blob"])
		}
		t.Fatalf("a reply of %d bytes: got a %d-byte attribute and error %v, want the stream broken", hugeReply, n, err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("Done did not close")
	}
}
