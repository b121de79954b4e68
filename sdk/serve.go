package sdk

import (
	"context"
	"math"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// ProtocolVersion is the go-plugin protocol version of the wire contract in
// sdk/proto/realmv1. It changes only on a breaking wire change.
const ProtocolVersion = 1

// Handshake is shared by realmd and every plugin. The cookie keeps a plugin
// binary from being run by hand by mistake; it is not a security feature.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "REALMD_PLUGIN",
	MagicCookieValue: "8c1f6a2e-realmd-realm-plugin-v1",
}

// pluginName is the single go-plugin plugin a realmd plugin process serves.
const pluginName = "realm"

// LogLevelEnv names the environment variable realmd uses to pass its log
// level to plugins.
const LogLevelEnv = "REALMD_PLUGIN_LOG_LEVEL"

// parentPollInterval is how often Serve checks that realmd is still alive.
const parentPollInterval = 250 * time.Millisecond

// flowWindow is the HTTP/2 flow-control window of the plugin connection, set
// on both ends. A fixed window turns off gRPC's bandwidth-delay probing,
// which otherwise answers the steady stream of small Exchange messages with
// PINGs and WINDOW_UPDATEs: each one more write and wake-up in both
// processes. Measured under load on the JWT realm, the fixed window cut CPU
// per request by about 15%.
const flowWindow = 16 << 20

// maxCallsMessage is the largest message a plugin accepts. gRPC's default
// of 4 MiB is smaller than what realmd may have to send: one header can be
// as large as max_header_bytes allows, and a refused message breaks the
// stream for every call in flight. realmd is the plugin's parent, and the
// batcher keeps messages near maxBatchBytes.
const maxCallsMessage = math.MaxInt32

// maxMessage is the largest message realmd accepts from a plugin: 64 MiB.
// A plugin built with this SDK never sends more than maxReply per reply
// (maxBatchBytes per message, unless one reply alone is larger), so the
// bound is never met by it; a plugin built otherwise cannot make realmd
// allocate gigabytes for one reply. A larger message breaks the stream,
// and the supervisor restarts the plugin.
const maxMessage = 64 << 20

// grpcPlugin binds the Realm service into go-plugin.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	server *server
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterRealmServer(s, p.server)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pb.NewRealmClient(c), nil
}

// Serve serves p to realmd and returns when realmd goes away. Call it from
// main and nothing else: stdout belongs to the handshake, logs go to stderr
// as JSON through the logger handed to each factory in Config.Logger.
//
// A plugin exits by itself when its parent process dies, so no plugin
// outlives realmd.
func Serve(p Plugin) {
	signal.Ignore(syscall.SIGPIPE) // a dead host must not kill us mid-log
	KeepHeapFloor(HeapFloor)
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       p.Name,
		Output:     os.Stderr,
		JSONFormat: true,
		Level:      hclog.LevelFromString(os.Getenv(LogLevelEnv)),
	})
	srv := newServer(p, logger)
	go exitWithParent(srv, logger)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugin.PluginSet{pluginName: &grpcPlugin{server: srv}},
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, grpc.InitialWindowSize(flowWindow), grpc.InitialConnWindowSize(flowWindow),
				grpc.MaxRecvMsgSize(maxCallsMessage), grpc.ForceServerCodecV2(newWireCodec()))...)
		},
		Logger: logger,
	})
	srv.stop()
}

// exitWithParent ends the process when the parent dies. realmd also asks the
// kernel for a parent-death signal where it can; this covers the rest.
func exitWithParent(srv *server, logger hclog.Logger) {
	parent := os.Getppid()
	for range time.Tick(parentPollInterval) {
		if os.Getppid() != parent {
			logger.Info("parent process is gone; exiting")
			srv.stop()
			os.Exit(0)
		}
	}
}
