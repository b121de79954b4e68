package bench

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/realmd/realmd/sdk"
)

// echo is a backend whose work is trivial, so the hop dominates.
type echo struct{}

func (echo) Authenticate(_ context.Context, c *sdk.Credentials) (*sdk.User, error) {
	return &sdk.User{Name: c.Username, BackendRoles: []string{"bench"}, CacheTTL: sdk.CacheForever}, nil
}

func echoPlugin() sdk.Plugin {
	return sdk.Plugin{Name: "echo", Version: "0", Backends: map[string]sdk.Factory[sdk.Backend]{
		"echo": func(*sdk.Config) (sdk.Backend, error) { return echo{}, nil },
	}}
}

func launchEcho(b *testing.B, unary bool) *sdk.Client {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=plugin")
	c, err := sdk.Launch(sdk.LaunchConfig{Cmd: cmd, Unary: unary})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Kill)
	conf, err := c.Configure(context.Background(), sdk.Configuration{Role: sdk.RoleBackend, Type: "echo", Instance: "bench"})
	if err != nil || len(conf.Problems) > 0 {
		b.Fatal(err, conf.Problems)
	}
	return c
}

// BenchmarkHop compares one backend call in process, over one unary gRPC
// call per request, and multiplexed over the long-lived stream realmd uses.
func BenchmarkHop(b *testing.B) {
	creds := &sdk.Credentials{Username: "alice", Password: []byte("secret")}
	call := map[string]func(b *testing.B) func() error{
		"in-process": func(*testing.B) func() error {
			return func() error { _, err := echo{}.Authenticate(context.Background(), creds); return err }
		},
		"unary": func(b *testing.B) func() error {
			c := launchEcho(b, true)
			return func() error { _, _, err := c.Authenticate(context.Background(), creds); return err }
		},
		"stream": func(b *testing.B) func() error {
			c := launchEcho(b, false)
			return func() error { _, _, err := c.Authenticate(context.Background(), creds); return err }
		},
	}
	for _, name := range []string{"in-process", "unary", "stream"} {
		b.Run(name, func(b *testing.B) {
			f := call[name](b)
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := f(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			record(b)
		})
	}
	addRatio("plugin hop: stream / unary", "BenchmarkHop/stream", "BenchmarkHop/unary")
}
