package ldap

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// fakeServer hands out connections over in-memory pipes.
type fakeServer struct {
	mu     sync.Mutex
	peers  []net.Conn
	checks int
	bad    bool // the validation check fails
}

func (f *fakeServer) open(context.Context) (*conn, error) {
	client, server := net.Pipe()
	l := goldap.NewConn(client, false)
	l.Start()
	f.mu.Lock()
	f.peers = append(f.peers, server)
	f.mu.Unlock()
	return &conn{l: l, raw: client, host: &Host{Raw: "fake"}}, nil
}

func (f *fakeServer) check(context.Context, *conn) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checks++
	if f.bad {
		return errors.New("validation failed")
	}
	return nil
}

func (f *fakeServer) opened() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.peers)
}

// hangUp closes the server side of the i-th connection and waits until the
// client notices.
func (f *fakeServer) hangUp(t *testing.T, i int, c *conn) {
	t.Helper()
	f.mu.Lock()
	f.peers[i].Close()
	f.mu.Unlock()
	deadline := time.Now().Add(generous)
	for !c.l.IsClosing() {
		if time.Now().After(deadline) {
			t.Fatal("client did not notice the closed connection")
		}
		time.Sleep(time.Millisecond)
	}
}

func newFakePool(t *testing.T, cfg PoolConfig) (*pool, *fakeServer) {
	t.Helper()
	f := &fakeServer{}
	p := newPool(cfg, f.open, f.check, hclog.NewNullLogger())
	t.Cleanup(func() {
		p.close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, c := range f.peers {
			c.Close()
		}
	})
	return p, f
}

func enabledPool(maxSize int, blocking bool) PoolConfig {
	return PoolConfig{Enabled: true, MaxSize: maxSize, Blocking: blocking, PruningPeriod: time.Hour, IdleTime: time.Hour}
}

func mustGet(t *testing.T, p *pool) *conn {
	t.Helper()
	c, err := p.get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPool_DisabledOpensAndClosesEveryTime(t *testing.T) {
	p, f := newFakePool(t, PoolConfig{MaxSize: 1})
	a := mustGet(t, p)
	p.put(a, false)
	b := mustGet(t, p)
	p.put(b, false)
	if f.opened() != 2 || !a.l.IsClosing() || !b.l.IsClosing() {
		t.Fatalf("opened %d; closed %v %v", f.opened(), a.l.IsClosing(), b.l.IsClosing())
	}
}

func TestPool_ReusesAnIdleConnection(t *testing.T) {
	p, f := newFakePool(t, enabledPool(2, false))
	a := mustGet(t, p)
	p.put(a, false)
	b := mustGet(t, p)
	if a != b || !b.reused || f.opened() != 1 {
		t.Fatalf("second get: same %v, reused %v, opened %d", a == b, b.reused, f.opened())
	}
	p.put(b, false)
}

func TestPool_DiscardsDeadAndBrokenConnections(t *testing.T) {
	p, f := newFakePool(t, enabledPool(2, false))
	a := mustGet(t, p)
	p.put(a, false)
	f.hangUp(t, 0, a)
	b := mustGet(t, p) // a is dead: a new one
	if b == a || f.opened() != 2 {
		t.Fatalf("got the dead connection back (opened %d)", f.opened())
	}
	p.put(b, true) // broken by its user
	if size, idle := p.stats(); size != 0 || idle != 0 || !b.l.IsClosing() {
		t.Fatalf("after a broken put: size %d, idle %d, closed %v", size, idle, b.l.IsClosing())
	}
}

func TestPool_ValidatesStaleConnections(t *testing.T) {
	p, f := newFakePool(t, enabledPool(2, false))
	a := mustGet(t, p)
	p.put(a, false)
	a.idleSince = time.Now().Add(-2 * staleAfter)
	f.bad = true
	b := mustGet(t, p)
	if b == a || f.checks != 1 || !a.l.IsClosing() {
		t.Fatalf("stale connection: reused %v, checks %d", b == a, f.checks)
	}
	p.put(b, false)
	if b2 := mustGet(t, p); b2 != b || f.checks != 1 {
		t.Fatalf("fresh idle connection: reused %v, checks %d", b2 == b, f.checks)
	}
}

func TestPool_BlockingWaitsForAConnection(t *testing.T) {
	p, f := newFakePool(t, enabledPool(1, true))
	a := mustGet(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := p.get(ctx); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("get on an exhausted blocking pool: %v, want ErrUnavailable", err)
	}
	got := make(chan *conn)
	go func() {
		c, _ := p.get(context.Background())
		got <- c
	}()
	p.put(a, false)
	if b := <-got; b != a || f.opened() != 1 {
		t.Fatalf("the waiter got %p, want %p (opened %d)", b, a, f.opened())
	}
}

func TestPool_SoftLimitOpensExtraConnections(t *testing.T) {
	p, f := newFakePool(t, enabledPool(1, false))
	a := mustGet(t, p)
	b := mustGet(t, p)
	if !a.pooled || b.pooled || f.opened() != 2 {
		t.Fatalf("pooled %v %v, opened %d", a.pooled, b.pooled, f.opened())
	}
	p.put(b, false)
	p.put(a, false)
	if size, idle := p.stats(); size != 1 || idle != 1 || !b.l.IsClosing() {
		t.Fatalf("size %d, idle %d, extra closed %v", size, idle, b.l.IsClosing())
	}
}

func TestPool_PruneKeepsMinSize(t *testing.T) {
	cfg := enabledPool(4, false)
	cfg.MinSize, cfg.IdleTime = 1, time.Minute
	p, _ := newFakePool(t, cfg)
	var cs []*conn
	for range 3 {
		cs = append(cs, mustGet(t, p))
	}
	for _, c := range cs {
		p.put(c, false)
	}
	cs[0].idleSince = time.Now().Add(-time.Hour)
	cs[1].idleSince = time.Now().Add(-time.Hour)
	cs[2].idleSince = time.Now().Add(-time.Hour)
	p.prune()
	if size, idle := p.stats(); size != 1 || idle != 1 {
		t.Fatalf("after prune: size %d, idle %d; want 1 and 1", size, idle)
	}
}

func TestPool_CloseClosesIdleAndRefusesGets(t *testing.T) {
	p, _ := newFakePool(t, enabledPool(2, false))
	a := mustGet(t, p)
	b := mustGet(t, p)
	p.put(a, false)
	p.close()
	if !a.l.IsClosing() {
		t.Fatal("idle connection left open")
	}
	p.put(b, false)
	if !b.l.IsClosing() {
		t.Fatal("connection returned after close left open")
	}
	if _, err := p.get(context.Background()); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("get after close: %v", err)
	}
}

// A pool handed a non-positive period must not start a ticker with it:
// time.NewTicker panics, and the plugin would crash on every restart.
func TestPool_NonPositivePeriodsFallBackToDefaults(t *testing.T) {
	tests := []struct {
		name       string
		pruning    time.Duration
		validation time.Duration
	}{
		{name: "zero pruning period", pruning: 0, validation: time.Hour},
		{name: "negative pruning period", pruning: -time.Minute, validation: time.Hour},
		{name: "zero validation period", pruning: time.Hour, validation: 0},
		{name: "negative validation period", pruning: time.Hour, validation: -time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := enabledPool(2, false)
			cfg.PruningPeriod = tt.pruning
			cfg.Validation = ValidationConfig{Enabled: true, Periodically: true, Period: tt.validation}
			p, _ := newFakePool(t, cfg)
			if p.cfg.PruningPeriod <= 0 || p.cfg.Validation.Period <= 0 {
				t.Fatalf("pool periods pruning %v, validation %v; want both positive", p.cfg.PruningPeriod, p.cfg.Validation.Period)
			}
			p.start() // panicked in the maintenance goroutine before
			p.close()
		})
	}
}
