package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

const inAuthenticate = "pipeline.(*Pipeline).Authenticate("

// receive waits for one result, failing the test after the guard.
func receive(t *testing.T, ch <-chan Result, what string) Result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(guard):
		t.Fatalf("gave up waiting for %s", what)
		return Result{}
	}
}

func TestFlight_IdenticalRequestsShareOneBackendCall(t *testing.T) {
	const n = 8
	g := newGate(n)
	defer g.open()
	v := users()
	v.ttl = 0 // the answer is not cacheable: only the flight can share it
	v.block = g.wait
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, v)}, CacheTTL: time.Hour})
	results := make(chan Result, n)
	for range n {
		go func() {
			results <- p.Authenticate(context.Background(), request("Authorization: Basic alice:secret"), caller)
		}()
	}
	g.arrived(t, 1)
	waitFor(t, fmt.Sprintf("%d requests waiting in Authenticate", n), func() bool { return blockedIn(inAuthenticate) >= n })
	g.open()
	for i := range n {
		r := receive(t, results, fmt.Sprintf("answer %d", i))
		if r.Outcome != Authenticated || r.Identity.User.Name != "alice" {
			t.Errorf("answer %d: outcome %v identity %+v, want alice", i, r.Outcome, r.Identity)
		}
	}
	if c := v.calls.Load(); c != 1 {
		t.Errorf("backend calls = %d for %d identical concurrent requests, want 1", c, n)
	}
}

func TestAuthenticate_ReturnsWhenTheCallerGivesUp(t *testing.T) {
	for _, ttl := range []time.Duration{time.Hour, 0} {
		t.Run(fmt.Sprintf("cache ttl %v", ttl), func(t *testing.T) {
			g := newGate(1)
			defer g.open()
			v := users()
			v.block = g.wait
			p := start(t, Config{Domains: []Domain{basicDomain("basic", true, v)}, CacheTTL: ttl})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan Result, 1)
			go func() { done <- p.Authenticate(ctx, request("Authorization: Basic alice:secret"), caller) }()
			g.arrived(t, 1)
			cancel()
			if r := receive(t, done, "Authenticate to return after its context ended"); r.Outcome != Unavailable {
				t.Errorf("outcome = %v, want unavailable", r.Outcome)
			}
		})
	}
}

func TestFlight_FollowerGetsTheAnswerWhenTheLeaderGivesUp(t *testing.T) {
	g := newGate(2)
	defer g.open()
	v := users()
	v.block = g.wait
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, v)}, CacheTTL: time.Hour})
	leaderCtx, cancel := context.WithCancel(context.Background())
	leader, follower := make(chan Result, 1), make(chan Result, 1)
	go func() { leader <- p.Authenticate(leaderCtx, request("Authorization: Basic alice:secret"), caller) }()
	g.arrived(t, 1)
	go func() { follower <- ask(t, p, request("Authorization: Basic alice:secret")) }()
	waitFor(t, "the follower to join", func() bool { return blockedIn(inAuthenticate) >= 2 })
	cancel()
	if r := receive(t, leader, "the leader to give up"); r.Outcome != Unavailable {
		t.Errorf("leader outcome = %v, want unavailable", r.Outcome)
	}
	g.open()
	if r := receive(t, follower, "the follower's answer"); r.Outcome != Authenticated {
		t.Errorf("follower outcome = %v, want authenticated", r.Outcome)
	}
	if c := v.calls.Load(); c != 1 {
		t.Errorf("backend calls = %d, want 1", c)
	}
}

func TestBackpressure_FullQueueIsOverloaded(t *testing.T) {
	g := newGate(4)
	defer g.open()
	v := users()
	v.block = g.wait
	// No cache, so no flight: every request travels the stages.
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, v)}, QueueSize: 1})
	alice := request("Authorization: Basic alice:secret")
	running, queued := make(chan Result, 1), make(chan Result, 1)
	go func() { running <- ask(t, p, alice) }()
	g.arrived(t, 1)
	go func() { queued <- ask(t, p, alice) }()
	waitFor(t, "the second request to be queued", func() bool { return len(p.stages[0].in) == 1 })

	if r := ask(t, p, alice); r.Outcome != Overloaded {
		t.Errorf("third request: outcome %v, want overloaded", r.Outcome)
	}
	g.open()
	for _, ch := range []chan Result{running, queued} {
		if r := receive(t, ch, "an admitted request"); r.Outcome != Authenticated {
			t.Errorf("admitted request: outcome %v, want authenticated", r.Outcome)
		}
	}
	if r := ask(t, p, alice); r.Outcome != Authenticated {
		t.Errorf("request after the queue drained: outcome %v, want authenticated", r.Outcome)
	}
}

func TestClose_DrainsRequestsInFlight(t *testing.T) {
	g := newGate(1)
	defer g.open()
	v := users()
	v.block = g.wait
	p := New(Config{Domains: []Domain{basicDomain("basic", true, v)}, CacheTTL: time.Hour})
	inFlight := make(chan Result, 1)
	go func() { inFlight <- ask(t, p, request("Authorization: Basic alice:secret")) }()
	g.arrived(t, 1)

	closed := make(chan struct{})
	go func() { p.Close(); close(closed) }()
	waitFor(t, "Close to wait", func() bool { return blockedIn("pipeline.(*Pipeline).Close(") == 1 })
	if r := ask(t, p, request("Authorization: Basic bob:hunter2")); r.Outcome != Unavailable {
		t.Errorf("request during Close: outcome %v, want unavailable", r.Outcome)
	}
	select {
	case <-closed:
		t.Fatal("Close returned while a request was in flight")
	default:
	}
	g.open()
	if r := receive(t, inFlight, "the request in flight"); r.Outcome != Authenticated || r.Identity.User.Name != "alice" || r.Closed {
		t.Errorf("request in flight: outcome %v closed %v, want alice authenticated", r.Outcome, r.Closed)
	}
	select {
	case <-closed:
	case <-time.After(guard):
		t.Fatal("Close did not return after the drain")
	}
	if r := ask(t, p, request("Authorization: Basic alice:secret")); r.Outcome != Unavailable || !r.Closed {
		t.Errorf("request after Close: outcome %v closed %v, want unavailable and closed", r.Outcome, r.Closed)
	}
}

func TestClose_WhileRequestsKeepArriving(t *testing.T) {
	p := New(Config{Domains: []Domain{basicDomain("basic", true, users())}, CacheTTL: 0})
	var served atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			r := request(fmt.Sprintf("Authorization: Basic alice:%s", map[bool]string{true: "secret", false: "wrong"}[i%2 == 0]))
			for {
				select {
				case <-stop:
					return
				default:
				}
				switch got := p.Authenticate(context.Background(), r, caller); got.Outcome {
				case Authenticated, Challenged:
					served.Add(1)
				case Unavailable:
				default:
					t.Errorf("outcome %v while closing", got.Outcome)
					return
				}
			}
		})
	}
	waitFor(t, "some requests served", func() bool { return served.Load() >= 200 })
	p.Close()
	close(stop)
	wg.Wait()
	if r := ask(t, p, request("Authorization: Basic alice:secret")); r.Outcome != Unavailable {
		t.Errorf("request after Close: outcome %v, want unavailable", r.Outcome)
	}
}

func TestClose_LeavesNoGoroutines(t *testing.T) {
	for _, ttl := range []time.Duration{time.Hour, 0} {
		t.Run(fmt.Sprintf("cache ttl %v", ttl), func(t *testing.T) {
			before := runtime.NumGoroutine()
			g := newGate(1)
			defer g.open()
			slow := users()
			slow.block = g.wait
			p := New(Config{
				Domains: []Domain{
					proxyDomain("proxy", true, nil), basicDomain("slow", false, slow), bearerDomain("jwt", true),
				},
				Authz: []AuthzDomain{
					{Name: "a", Backend: &fakeGranter{grant: &sdk.Grant{BackendRoles: []string{"a"}, CacheTTL: sdk.CacheForever}}},
					{Name: "b", Backend: &fakeGranter{err: errDirectoryDown}},
				},
				Anonymous: true,
				CacheTTL:  ttl,
			})
			for _, r := range []*sdk.Request{
				request("X-Proxy-User: carol"), request("X-Proxy-User: carol"), // authenticated, then cached
				request("Authorization: Bearer dave"), request("Authorization: Bearer down"),
				request("Authorization: Bearer"), request(), // challenge, anonymous
			} {
				ask(t, p, r)
			}
			// One request abandoned by its caller while a backend holds it.
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan Result, 1)
			go func() { done <- p.Authenticate(ctx, request("Authorization: Basic alice:secret"), caller) }()
			g.arrived(t, 1)
			cancel()
			receive(t, done, "the abandoned request")
			p.Close()
			waitFor(t, fmt.Sprintf("goroutines back to %d", before), func() bool { return runtime.NumGoroutine() <= before })
		})
	}
}

// Config.Timeout ends a request held in a stage: the caller gets a timeout,
// and the stage's call sees a deadline no later than one tick past it.
func TestPipeline_TimeoutEndsAHeldRequest(t *testing.T) {
	const timeout = 50 * time.Millisecond
	var deadline, calledAt atomic.Pointer[time.Time]
	v := users()
	v.block = func(ctx context.Context) error {
		now := time.Now()
		calledAt.Store(&now)
		if dl, ok := ctx.Deadline(); ok {
			deadline.Store(&dl)
		}
		<-ctx.Done()
		return fmt.Errorf("held: %w", errors.Join(sdk.ErrUnavailable, ctx.Err()))
	}
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, v)}, Timeout: timeout})
	began := time.Now()
	res := ask(t, p, request("Authorization: Basic alice:secret"))
	if res.Outcome != Unavailable || !slices.Contains(res.Unavailable, "timeout") {
		t.Fatalf("result %+v, want Unavailable with timeout", res)
	}
	dl := deadline.Load()
	if dl == nil {
		t.Fatal("the stage's call had no deadline")
	}
	// The deadline was set between began and the call, then rounded up.
	if earliest, latest := began.Add(timeout), calledAt.Load().Add(timeout+deadlineTick); dl.Before(earliest) || dl.After(latest) {
		t.Errorf("deadline %v after start, want between %v and %v", dl.Sub(began), earliest.Sub(began), latest.Sub(began))
	}
}

// A caller that shares another's check gets its own answer, not the first
// caller's deadline (found by review: one caller in a hurry timed out every
// caller with the same credentials).
func TestFlight_AFollowerIsNotTimedOutByTheLeadersDeadline(t *testing.T) {
	v := users()
	v.block = func(ctx context.Context) error {
		select {
		case <-time.After(150 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p := start(t, Config{Domains: []Domain{basicDomain("basic", true, v)}, CacheTTL: time.Hour, Timeout: 5 * time.Second})
	leaderCtx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	leader, follower := make(chan Result, 1), make(chan Result, 1)
	go func() { leader <- p.Authenticate(leaderCtx, request("Authorization: Basic alice:secret"), caller) }()
	waitFor(t, "leader in backend", func() bool { return v.calls.Load() == 1 })
	go func() { follower <- ask(t, p, request("Authorization: Basic alice:secret")) }()
	receive(t, leader, "leader")
	r := receive(t, follower, "follower")
	if r.Outcome != Authenticated {
		t.Errorf("follower (deadline %v, request_timeout 5s, backend 150ms): outcome %v unavailable %v, want authenticated", guard, r.Outcome, r.Unavailable)
	}
}
