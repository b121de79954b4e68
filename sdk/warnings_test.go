package sdk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

func TestConfig_WarningsAreSortedByKey(t *testing.T) {
	c := NewConfigMap(nil, "", nil)
	c.Warn("b", "second %d", 2)
	c.Warn("", "about the whole config")
	c.Warn("a", "first")
	want := []Problem{{Key: "", Message: "about the whole config"}, {Key: "a", Message: "first"}, {Key: "b", Message: "second 2"}}
	if got := c.Warnings(); !reflect.DeepEqual(got, want) {
		t.Errorf("Warnings() = %q, want %q", got, want)
	}
	if ps := c.Problems(); len(ps) > 0 {
		t.Errorf("a warning became a problem: %v", ps)
	}
}

type quietAuthn struct{}

func (quietAuthn) Inputs() Inputs { return Inputs{} }
func (quietAuthn) Extract(context.Context, *Request) (*Credentials, error) {
	return nil, nil
}

// configureRealm answers Configure with a server in this process, through
// the wire encoding, and holds the call stream like heldClient.
type configureRealm struct {
	fakeRealmClient
	s *server
}

func (r configureRealm) Configure(ctx context.Context, req *pb.ConfigureRequest, _ ...grpc.CallOption) (*pb.ConfigureResponse, error) {
	resp, err := r.s.Configure(ctx, req)
	if err != nil {
		return nil, err
	}
	b, err := resp.MarshalVT()
	if err != nil {
		return nil, err
	}
	out := &pb.ConfigureResponse{}
	return out, out.UnmarshalVT(b)
}

// A factory's warnings reach the host with every Configure answer (the
// validation pass, the real one, and a refusal), and the plugin logs none
// of them itself.
func TestConfigure_WarningsTravelWithTheAnswerAndAreNotLogged(t *testing.T) {
	var logs bytes.Buffer
	s := newServer(Plugin{Name: "warns", Authenticators: map[string]Factory[Authenticator]{
		"warns": func(cfg *Config) (Authenticator, error) {
			if cfg.Bool("refuse", false) {
				cfg.Problem("refuse", "refused on purpose")
			}
			cfg.Warn("level", "level %d is risky", cfg.Int("level", 0))
			return quietAuthn{}, nil
		},
	}}, hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn}))
	t.Cleanup(s.stop)
	f := &fakeStream{entered: make(chan struct{}, 100), gate: make(chan struct{}), sent: make(chan []*pb.Call, 100)}
	c, err := newClient(configureRealm{fakeRealmClient{stream: f}, s}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Kill)
	wantWarnings := []Problem{{Key: "level", Message: "level 3 is risky"}}
	tests := []struct {
		name         string
		json         string
		validateOnly bool
		wantProblems int
	}{
		{name: "validation pass", json: `{"level": 3}`, validateOnly: true},
		{name: "real pass", json: `{"level": 3}`},
		{name: "refused", json: `{"level": 3, "refuse": true}`, wantProblems: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs.Reset()
			got, err := c.Configure(context.Background(), Configuration{Role: RoleAuthenticator, Type: "warns", Instance: "authc.x.http_authenticator",
				JSON: []byte(tt.json), ValidateOnly: tt.validateOnly})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Problems) != tt.wantProblems {
				t.Errorf("problems %v, want %d", got.Problems, tt.wantProblems)
			}
			if !reflect.DeepEqual(got.Warnings, wantWarnings) {
				t.Errorf("warnings %q, want %q", got.Warnings, wantWarnings)
			}
			if logs.Len() > 0 {
				t.Errorf("the plugin logged:\n%s", logs.String())
			}
		})
	}
}

// A host that predates warnings (no host_shows_warnings) would drop them
// from the answer, so the plugin logs them itself: once, in the pass that
// is not validate-only (found by review: a plugin built with this SDK
// showed its warnings nowhere on an older realmd).
func TestConfigure_AnOlderHostGetsWarningsInThePluginsLog(t *testing.T) {
	var logs bytes.Buffer
	s := newServer(Plugin{Name: "warns", Authenticators: map[string]Factory[Authenticator]{
		"warns": func(cfg *Config) (Authenticator, error) {
			cfg.Warn("level", "level %d is risky", cfg.Int("level", 0))
			return quietAuthn{}, nil
		},
	}}, hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Warn}))
	t.Cleanup(s.stop)
	for _, validateOnly := range []bool{true, false} {
		resp, err := s.Configure(context.Background(), &pb.ConfigureRequest{Role: pb.Role_ROLE_AUTHENTICATOR, Type: "warns",
			Instance: "authc.x.http_authenticator", ConfigJson: []byte(`{"level": 3}`), ValidateOnly: validateOnly})
		if err != nil || len(resp.GetProblems()) > 0 {
			t.Fatalf("validate_only %v: %v, %v", validateOnly, resp.GetProblems(), err)
		}
	}
	if n := strings.Count(logs.String(), "level 3 is risky"); n != 1 {
		t.Errorf("the plugin logged the warning %d times for an older host, want once:\n%s", n, logs.String())
	}
}

// failingProvision is an authenticator whose Provision fails with err.
type failingProvision struct {
	quietAuthn
	err error
}

func (f failingProvision) Provision(context.Context) error { return f.err }

// A Provision that fails with an sdk.Problem is reported at its key (so
// realmd names its line), and the factory's warnings still come back
// (found by review: every Provision error landed on the config as a whole,
// and its warnings were dropped).
func TestConfigure_AFailedProvisionKeepsItsKeyAndTheWarnings(t *testing.T) {
	for _, tt := range []struct {
		name    string
		err     error
		wantKey string
	}{
		{"a Problem", Problem{Key: "tokens_file", Message: "cannot read it"}, "tokens_file"},
		{"a wrapped *Problem", fmt.Errorf("loading: %w", &Problem{Key: "tokens_file", Message: "cannot read it"}), "tokens_file"},
		{"another error", errors.New("cannot read it"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(Plugin{Name: "fails", Authenticators: map[string]Factory[Authenticator]{
				"fails": func(cfg *Config) (Authenticator, error) {
					cfg.Warn("level", "risky")
					cfg.Int("level", 0)
					return failingProvision{err: tt.err}, nil
				},
			}}, hclog.NewNullLogger())
			t.Cleanup(s.stop)
			resp, err := s.Configure(context.Background(), &pb.ConfigureRequest{Role: pb.Role_ROLE_AUTHENTICATOR, Type: "fails",
				Instance: "authc.x.http_authenticator", ConfigJson: []byte(`{"level": 3}`), HostShowsWarnings: true})
			if err != nil {
				t.Fatal(err)
			}
			ps := resp.GetProblems()
			if len(ps) != 1 || ps[0].GetKey() != tt.wantKey || !strings.Contains(ps[0].GetMessage(), "provisioning:") || !strings.Contains(ps[0].GetMessage(), "cannot read it") {
				t.Errorf("problems %v, want one at key %q", ps, tt.wantKey)
			}
			if ws := resp.GetWarnings(); len(ws) != 1 || ws[0].GetKey() != "level" {
				t.Errorf("warnings %v, want the factory's", ws)
			}
		})
	}
}
