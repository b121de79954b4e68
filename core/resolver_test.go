package core

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
)

// fakeLookup answers every name with one address, except names starting
// "bad", which are not found; it counts its calls per name, and waits for
// gate when there is one.
type fakeLookup struct {
	mu      sync.Mutex
	calls   map[string]int
	gate    chan struct{}
	started chan string
}

func (f *fakeLookup) lookup(ctx context.Context, name string) ([]string, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[name]++
	f.mu.Unlock()
	if f.started != nil {
		f.started <- name
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if strings.HasPrefix(name, "bad") {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return []string{"192.0.2.1"}, nil
}

func (f *fakeLookup) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

// An answer is kept 30 s and a failure 10 s, Java's defaults; then the
// name is looked up again.
func TestLookupCache_KeepsAnswersAsJavaDoes(t *testing.T) {
	f := &fakeLookup{}
	c := newLookupCache(f.lookup, 100, 4)
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		after     time.Duration // since the first lookup
		wantCalls int
	}{
		{"good.example", 0, 1},
		{"good.example", 29 * time.Second, 1},
		{"good.example", 30 * time.Second, 2},
		{"bad.example", 0, 1},
		{"bad.example", 9 * time.Second, 1},
		{"bad.example", 10 * time.Second, 2},
	} {
		if tc.after == 0 {
			now = time.Unix(1000, 0)
		} else {
			now = time.Unix(1000, 0).Add(tc.after)
		}
		answer, err := c.Lookup(ctx, tc.name)
		if strings.HasPrefix(tc.name, "bad") != (err != nil) || (err == nil && len(answer) != 1) {
			t.Errorf("%s after %v: %q, %v", tc.name, tc.after, answer, err)
		}
		if n := f.count(tc.name); n != tc.wantCalls {
			t.Errorf("%s after %v: %d lookups, want %d", tc.name, tc.after, n, tc.wantCalls)
		}
	}
}

// Callers asking for one name together share one lookup; one that leaves
// gets its context's error, and the lookup still answers the others and is
// kept.
func TestLookupCache_OneLookupForCallersTogether(t *testing.T) {
	f := &fakeLookup{gate: make(chan struct{}), started: make(chan string, 10)}
	c := newLookupCache(f.lookup, 100, 4)
	left, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var answered atomic.Int32
	for range 5 {
		wg.Go(func() {
			if answer, err := c.Lookup(context.Background(), "one.example"); err == nil && len(answer) == 1 {
				answered.Add(1)
			}
		})
	}
	<-f.started
	leaver := make(chan error, 1)
	go func() { _, err := c.Lookup(left, "one.example"); leaver <- err }()
	cancel()
	if err := <-leaver; !errors.Is(err, context.Canceled) {
		t.Errorf("a caller that left got %v, want context.Canceled", err)
	}
	close(f.gate)
	wg.Wait()
	if n := answered.Load(); n != 5 {
		t.Errorf("%d of 5 callers answered", n)
	}
	if _, err := c.Lookup(context.Background(), "one.example"); err != nil {
		t.Error(err)
	}
	if n := f.count("one.example"); n != 1 {
		t.Errorf("%d lookups, want 1", n)
	}
}

// Beyond the lookups allowed at once, a lookup fails at once, and that
// failure is not kept: a flood of distinct names cannot open a goroutine
// and a socket each.
func TestLookupCache_ALookupBeyondTheBoundFailsAtOnce(t *testing.T) {
	f := &fakeLookup{gate: make(chan struct{}), started: make(chan string, 10)}
	c := newLookupCache(f.lookup, 100, 2)
	var wg sync.WaitGroup
	for _, name := range []string{"a.example", "b.example"} {
		wg.Go(func() { _, _ = c.Lookup(context.Background(), name) })
		<-f.started
	}
	if _, err := c.Lookup(context.Background(), "c.example"); !errors.Is(err, errTooManyLookups) {
		t.Errorf("a third lookup at once: %v, want errTooManyLookups", err)
	}
	if n := f.count("c.example"); n != 0 {
		t.Errorf("c.example was looked up %d times beyond the bound", n)
	}
	close(f.gate)
	wg.Wait()
	if answer, err := c.Lookup(context.Background(), "c.example"); err != nil || len(answer) != 1 {
		t.Errorf("c.example once the others ended: %q, %v; the refusal must not be kept", answer, err)
	}
}

// The cache keeps at most its bound of names, and a name longer than DNS
// can carry is neither looked up nor kept.
func TestLookupCache_IsBounded(t *testing.T) {
	f := &fakeLookup{}
	c := newLookupCache(f.lookup, 3, 4)
	for _, name := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		if _, err := c.Lookup(context.Background(), name+".example"); err != nil {
			t.Fatal(err)
		}
		if n := c.len(); n > 3 {
			t.Fatalf("%d names kept, want at most 3", n)
		}
	}
	long := strings.Repeat("a", 300) + ".example"
	if _, err := c.Lookup(context.Background(), long); err == nil {
		t.Error("a 308-byte name resolved")
	}
	if n := f.count(long); n != 0 {
		t.Errorf("a 308-byte name was looked up %d times", n)
	}
}

// A lookup refused at the bound is logged, at most one line per 10 s with
// the count of refusals since the last line, so an operator learns why
// X-Forwarded-For names fail or role mapping finds no host names. Found by
// review: the refusal was silent, and role mapping then quietly matched no
// hosts pattern by name and no ignore_hosts entry.
func TestLookupCache_ARefusedLookupIsLoggedAtMostOnceEvery10s(t *testing.T) {
	f := &fakeLookup{gate: make(chan struct{}), started: make(chan string, 10)}
	c := newLookupCache(f.lookup, 100, 1)
	logs := &testenv.LogBuffer{}
	c.describe("test names", "the test fails them")
	c.setLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: logs}))
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = c.Lookup(context.Background(), "busy.example") })
	<-f.started
	refuse := func(name string) {
		t.Helper()
		if _, err := c.Lookup(context.Background(), name); !errors.Is(err, errTooManyLookups) {
			t.Fatalf("%s: %v, want errTooManyLookups", name, err)
		}
	}
	lines := func() []string {
		var out []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "DNS lookups refused") {
				out = append(out, l)
			}
		}
		return out
	}
	refuse("a.example")
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "refused=1") || !strings.Contains(got[0], `lookups="test names"`) || !strings.Contains(got[0], "running=1") {
		t.Fatalf("after the first refusal: %q, want one line with refused=1", got)
	}
	now = now.Add(5 * time.Second)
	refuse("b.example")
	refuse("c.example")
	if got := lines(); len(got) != 1 {
		t.Fatalf("refusals within 10 s of the last line logged again: %q", got)
	}
	now = now.Add(5 * time.Second)
	refuse("d.example")
	if got := lines(); len(got) != 2 || !strings.Contains(got[1], "refused=3") {
		t.Fatalf("10 s after the first line: %q, want a second line with refused=3", got)
	}
	close(f.gate)
	wg.Wait()
}

// Refusals that no later one reports are logged by a timer, so no count is
// lost when the flood stops.
func TestLookupCache_TheLastRefusalsAreLoggedWhenTheFloodStops(t *testing.T) {
	f := &fakeLookup{gate: make(chan struct{}), started: make(chan string, 10)}
	c := newLookupCache(f.lookup, 100, 1)
	c.refusalEvery = 10 * time.Millisecond
	logs := &testenv.LogBuffer{}
	c.setLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: logs}))
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = c.Lookup(context.Background(), "busy.example") })
	<-f.started
	for _, name := range []string{"a.example", "b.example", "c.example"} {
		if _, err := c.Lookup(context.Background(), name); !errors.Is(err, errTooManyLookups) {
			t.Fatalf("%s: %v, want errTooManyLookups", name, err)
		}
	}
	counted := func() int {
		n := 0
		for _, f := range strings.Fields(logs.String()) {
			if v, ok := strings.CutPrefix(f, "refused="); ok {
				i, _ := strconv.Atoi(v)
				n += i
			}
		}
		return n
	}
	for end := time.Now().Add(10 * time.Second); counted() != 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) { // a guard, not the assertion
			t.Fatalf("refusals logged: %d, want 3:\n%s", counted(), logs.String())
		}
	}
	close(f.gate)
	wg.Wait()
}

// A serving daemon's DNS caches log their refusals to its logger.
func TestDaemon_LogsRefusedDNSLookups(t *testing.T) {
	logs := &testenv.LogBuffer{}
	d := New(Options{Dir: fakeConfigDir(t), Listen: freeAddr(t), Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: logs})})
	serve(t, d)
	for _, c := range []*lookupCache{hostLookups, addrLookups} {
		c.refusals.mu.Lock()
		c.refusals.last = time.Time{} // no line logged lately
		c.refusals.mu.Unlock()
		c.refused()
	}
	for _, want := range []string{`dns: DNS lookups refused`, `lookups="X-Forwarded-For host names" refused=1`, `lookups="host names of client addresses`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
}

// A period's timer that fired while refused held the lock, after refused
// had found the period over, logged and armed the next period's timer,
// does nothing when its callback finally runs: the refusals are the next
// timer's to log (found by review: such a stale callback logged at once
// and dropped the new timer, and under a flood lines came hundreds a
// second).
func TestLookupCache_AStaleTimerLogsNothing(t *testing.T) {
	c := newLookupCache(nil, 10, 1)
	logs := &testenv.LogBuffer{}
	c.setLogger(hclog.New(&hclog.LoggerOptions{Level: hclog.Info, Output: logs}))
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	c.refusalEvery = time.Hour // no timer fires by itself during the test
	c.refused()                // logged at once
	c.refused()                // within the period: arms a timer
	stale := c.refusals.armed
	now = now.Add(time.Hour)
	c.refused() // the period is over: stops the timer and logs
	c.refused() // within the new period: arms the next timer
	next := c.refusals.timer
	if next == nil || c.refusals.armed == stale {
		t.Fatal("refused did not arm a timer for the new period")
	}
	before := strings.Count(logs.String(), "DNS lookups refused")
	c.periodEnded(stale) // the first timer's callback, late
	if got := strings.Count(logs.String(), "DNS lookups refused"); got != before {
		t.Errorf("the stale timer logged a line (%d lines, want %d):\n%s", got, before, logs.String())
	}
	if c.refusals.timer != next {
		t.Error("the stale timer dropped the next period's timer")
	}
	next.Stop()
}
