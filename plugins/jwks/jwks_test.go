package jwks

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// fakeProvider is a key-set source under the test's control.
type fakeProvider struct {
	clock   *fakeClock
	mu      sync.Mutex
	keys    *keySet
	err     error
	calls   int
	starts  []time.Time   // the clock at each fetch
	release chan struct{} // when non-nil, fetch blocks until it is closed
}

// fetch answers the keys set when the request is sent, as a server would,
// even when release holds the answer back.
func (p *fakeProvider) fetch(ctx context.Context) (*keySet, error) {
	p.mu.Lock()
	p.calls++
	p.starts = append(p.starts, p.clock.now())
	keys, err, release := p.keys, p.err, p.release
	p.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return keys, err
}

func (p *fakeProvider) set(ids ...string) {
	ks := &keySet{byID: map[string]*Key{}, entries: len(ids)}
	for _, id := range ids {
		k := &Key{ID: id, Public: []byte(strings.Repeat("k", 32))}
		ks.keys = append(ks.keys, k)
		if id != "" {
			ks.byID[id] = k
		}
	}
	p.mu.Lock()
	p.keys, p.err = ks, nil
	p.mu.Unlock()
}

func (p *fakeProvider) fail(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

func (p *fakeProvider) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls
}

// fetchTimes are the clock readings at each fetch.
func (p *fakeProvider) fetchTimes() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.starts)
}

// fakeClock is a time source that moves only when the test advances it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestSet returns a Set on a fake provider and a fake clock.
func newTestSet(t *testing.T, opts Options) (*Set, *fakeProvider, *fakeClock) {
	t.Helper()
	if opts.URL == "" {
		opts.URL = "http://127.0.0.1:1/jwks"
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	p := &fakeProvider{clock: clock}
	s.fetch, s.now = p.fetch, clock.now
	return s, p, clock
}

// waitUntil polls cond, failing the test if it does not hold within a
// generous bound (a safety net against hangs, not a timing assertion).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		runtime.Gosched()
	}
}

// waiters reports how many callers wait for a refresh.
func (s *Set) waiters() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

func TestSet_LoadsLazilyOnFirstLookup(t *testing.T) {
	s, p, _ := newTestSet(t, Options{})
	p.set("a")
	if p.count() != 0 {
		t.Fatalf("fetched %d times before any lookup", p.count())
	}
	k, err := s.Key(context.Background(), "a")
	if err != nil || k.ID != "a" {
		t.Fatalf("Key(a) = %v, %v", k, err)
	}
	if _, err := s.Key(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if p.count() != 1 {
		t.Fatalf("fetched %d times, want 1 (known kid needs no refresh)", p.count())
	}
}

func TestSet_Lookup(t *testing.T) {
	tests := []struct {
		name    string
		keys    []string
		kid     string
		wantID  string
		wantErr error
	}{
		{name: "known kid", keys: []string{"a", "b"}, kid: "b", wantID: "b"},
		{name: "unknown kid after refresh is unknown", keys: []string{"a"}, kid: "zz", wantErr: ErrUnknownKID},
		{name: "no kid with one key uses it", keys: []string{"only"}, kid: "", wantID: "only"},
		{name: "no kid with several keys is refused", keys: []string{"a", "b"}, kid: "", wantErr: ErrKIDRequired},
		{name: "no kid with no keys is unavailable", keys: nil, kid: "", wantErr: sdk.ErrUnavailable},
		{name: "path traversal kid does not match", keys: []string{"a"}, kid: "../../etc/passwd", wantErr: ErrUnknownKID},
		{name: "sql injection kid does not match", keys: []string{"a"}, kid: "' OR '1'='1", wantErr: ErrUnknownKID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, p, _ := newTestSet(t, Options{})
			p.set(tt.keys...)
			k, err := s.Key(context.Background(), tt.kid)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || k.ID != tt.wantID {
				t.Fatalf("Key = %v, %v; want %s", k, err, tt.wantID)
			}
		})
	}
}

func TestSet_UnknownKIDRefreshesAndFindsRotatedKey(t *testing.T) {
	s, p, clock := newTestSet(t, Options{})
	p.set("old")
	ctx := context.Background()
	if _, err := s.Key(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	p.set("new")
	clock.advance(time.Second)
	k, err := s.Key(ctx, "new")
	if err != nil || k.ID != "new" {
		t.Fatalf("Key(new) = %v, %v", k, err)
	}
	if p.count() != 2 {
		t.Fatalf("fetches = %d, want 2", p.count())
	}
}

// checkSpacing fails when two fetches started closer than interval.
func checkSpacing(t *testing.T, p *fakeProvider, interval time.Duration) {
	t.Helper()
	starts := p.fetchTimes()
	for i := 1; i < len(starts); i++ {
		if gap := starts[i].Sub(starts[i-1]); gap < interval {
			t.Fatalf("fetches %d and %d started %s apart, less than the interval %s", i, i+1, gap, interval)
		}
	}
}

// forgedKID is a kid no provider holds.
func forgedKID(who any) string { return fmt.Sprintf("forged-%v-%d", who, rand.Int64()) }

// Right after a refresh, an unknown kid is refused at once: it neither
// waits (which would hold the caller's plugin and pipeline workers) nor
// fetches.
func TestSet_UnknownKIDRightAfterARefreshIsRefusedAtOnce(t *testing.T) {
	s, p, _ := newTestSet(t, Options{RequestTimeout: time.Minute, QueueTimeout: time.Minute})
	p.set("a")
	if _, err := s.Key(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	// From here a fetch would block until the test ends, the clock does not
	// move, and the lookups' context is already done: a lookup that waited
	// for anything would return unavailable instead of ErrUnknownKID.
	release := make(chan struct{})
	p.mu.Lock()
	p.release = release
	p.mu.Unlock()
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	const attackers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, attackers*each)
	for i := range attackers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				kid := forgedKID(fmt.Sprint(i, "-", j))
				if _, err := s.Key(ctx, kid); !errors.Is(err, ErrUnknownKID) {
					errs <- fmt.Errorf("forged kid %s: err = %v, want ErrUnknownKID at once", kid, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p.count() != 1 {
		t.Fatalf("fetches = %d, want 1 (the load only)", p.count())
	}
	if n := s.waiters(); n != 0 {
		t.Fatalf("%d callers wait for a refresh, want none", n)
	}
}

// However dense a flood of forged kids, the set is fetched at most once
// per interval.
func TestSet_UnknownKIDFloodStaysWithinTheRateLimit(t *testing.T) {
	const window, limit = 10 * time.Second, 10
	interval := window / limit
	s, p, clock := newTestSet(t, Options{RefreshWindow: window, RefreshLimit: limit})
	p.set("a")
	ctx := context.Background()
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	const steps, perStep = 40, 25 // ten intervals in quarter steps
	for i := range steps {
		clock.advance(interval / 4)
		for j := range perStep {
			kid := forgedKID(fmt.Sprint(i, "-", j))
			if _, err := s.Key(ctx, kid); !errors.Is(err, ErrUnknownKID) {
				t.Fatalf("forged kid %s: err = %v, want ErrUnknownKID", kid, err)
			}
		}
	}
	// The load, then one refresh per elapsed interval.
	if got, want := p.count(), 1+steps/4; got != want {
		t.Fatalf("fetches = %d, want %d", got, want)
	}
	checkSpacing(t, p, interval)
}

func TestSet_UnknownKIDFloodDoesNotHideRotation(t *testing.T) {
	const window, limit = 10 * time.Second, 10
	interval, step := window/limit, window/limit/10
	s, p, clock := newTestSet(t, Options{RefreshWindow: window, RefreshLimit: limit})
	p.set("old")
	ctx := context.Background()
	start := clock.now()
	if _, err := s.Key(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	forge := func() {
		t.Helper()
		for range 5 {
			if _, err := s.Key(ctx, forgedKID("x")); !errors.Is(err, ErrUnknownKID) {
				t.Fatalf("forged token: err = %v, want ErrUnknownKID (a rejection, not unavailable)", err)
			}
		}
	}
	for range 25 {
		clock.advance(step)
		forge()
	}
	p.set("old", "new")
	rotated := clock.now()
	for {
		forge()
		k, err := s.Key(ctx, "new")
		if err == nil {
			if k.ID != "new" {
				t.Fatalf("genuine kid: got key %q", k.ID)
			}
			break
		}
		if !errors.Is(err, ErrUnknownKID) {
			t.Fatalf("genuine kid after the rotation: err = %v, want the key or ErrUnknownKID, never unavailable", err)
		}
		if late := clock.now().Sub(rotated); late >= interval {
			t.Fatalf("genuine kid still refused %s after the rotation, interval %s", late, interval)
		}
		clock.advance(step)
	}
	if got, want := p.count(), 1+int(clock.now().Sub(start)/interval); got != want {
		t.Fatalf("fetches = %d, want %d (the load and one per interval)", got, want)
	}
	checkSpacing(t, p, interval)
	if _, err := s.Key(ctx, "old"); err != nil {
		t.Fatalf("known kid: %v", err)
	}
}

// TestSet_OnlyTheCallerThatStartedARefreshWaits: once a set has loaded,
// lookups that arrive while a refresh is in flight are answered from the
// current set at once. With a slow provider, waiting would hold a plugin
// worker per forged token.
func TestSet_OnlyTheCallerThatStartedARefreshWaits(t *testing.T) {
	s, p, clock := newTestSet(t, Options{RequestTimeout: time.Minute, QueueTimeout: 2 * time.Second})
	ctx := context.Background()
	p.set("old")
	if _, err := s.Key(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	clock.advance(time.Second)
	release := make(chan struct{})
	p.mu.Lock()
	p.release = release // the provider does not answer until released
	p.mu.Unlock()
	p.set("old", "new") // the provider has rotated; the refresh will bring it
	first := make(chan error, 1)
	go func() { _, err := s.Key(ctx, "forged-first"); first <- err }()
	waitUntil(t, "the first caller waits for its refresh", func() bool { return s.waiters() == 1 && p.count() == 2 })

	const attackers = 50
	var wg sync.WaitGroup
	errs := make([]error, attackers+1)
	for i := range attackers + 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kid := forgedKID(i)
			if i == attackers {
				kid = "new" // genuine, but the set does not hold it yet
			}
			_, errs[i] = s.Key(ctx, kid)
		}()
	}
	wg.Wait() // returns while the refresh is still held: nobody else waited
	for i, err := range errs {
		if !errors.Is(err, ErrUnknownKID) {
			t.Errorf("caller %d during the refresh: err = %v, want ErrUnknownKID at once", i, err)
		}
	}
	if n := s.waiters(); n != 1 {
		t.Fatalf("waiters = %d, want only the caller that started the refresh", n)
	}
	close(release)
	if err := <-first; !errors.Is(err, ErrUnknownKID) {
		t.Fatalf("first caller: err = %v, want ErrUnknownKID", err)
	}
	if k, err := s.Key(ctx, "new"); err != nil || k.ID != "new" {
		t.Fatalf("genuine kid after the refresh: key %v, err %v", k, err)
	}
	if p.count() != 2 {
		t.Fatalf("fetches = %d, want 2 (the load and one refresh)", p.count())
	}
}

func TestSet_LongIntervalRefusesUnknownKIDsUntilTheNextRefreshIsDue(t *testing.T) {
	// One refresh per 20 minutes.
	s, p, clock := newTestSet(t, Options{RefreshWindow: time.Hour, RefreshLimit: 3})
	ctx := context.Background()
	p.set("old")
	if _, err := s.Key(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	p.set("old", "new")
	for range 5 {
		if _, err := s.Key(ctx, "new"); !errors.Is(err, ErrUnknownKID) {
			t.Fatalf("err = %v, want ErrUnknownKID", err)
		}
	}
	clock.advance(20*time.Minute - time.Nanosecond)
	if _, err := s.Key(ctx, "new"); !errors.Is(err, ErrUnknownKID) {
		t.Fatalf("just before the next refresh is due: err = %v, want ErrUnknownKID", err)
	}
	if p.count() != 1 {
		t.Fatalf("fetches = %d, want 1", p.count())
	}
	clock.advance(time.Nanosecond)
	if _, err := s.Key(ctx, "new"); err != nil {
		t.Fatalf("once the next refresh is due: %v", err)
	}
	if p.count() != 2 {
		t.Fatalf("fetches = %d, want 2", p.count())
	}
}

func TestSet_RefreshLimitZeroMeansOnePerWindow(t *testing.T) {
	s, p, clock := newTestSet(t, Options{RefreshWindow: 2 * time.Second, RefreshLimit: -1})
	p.set("a")
	ctx := context.Background()
	for i := range 9 {
		if i > 0 {
			clock.advance(500 * time.Millisecond)
		}
		if _, err := s.Key(ctx, "unknown"); !errors.Is(err, ErrUnknownKID) {
			t.Fatalf("err = %v, want ErrUnknownKID", err)
		}
	}
	// Lookups over 4 s: the load, then one refresh per 2 s window.
	if p.count() != 3 {
		t.Fatalf("fetches = %d, want 3", p.count())
	}
	checkSpacing(t, p, 2*time.Second)
}

func TestSet_KeyAfterRefreshFollowsTheSameRule(t *testing.T) {
	s, p, clock := newTestSet(t, Options{})
	p.set("")
	first, err := s.Key(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	p.set("") // the provider rotates its only key
	// Right after the load no newer set can be had: the current key comes
	// back at once (the context is done, so a wait would fail).
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if k, err := s.KeyAfterRefresh(done, ""); err != nil || k != first {
		t.Fatalf("KeyAfterRefresh right after the load = %p, %v; want the current key %p at once", k, err, first)
	}
	if p.count() != 1 {
		t.Fatalf("fetches = %d, want 1", p.count())
	}
	clock.advance(time.Second)
	k, err := s.KeyAfterRefresh(context.Background(), "")
	if err != nil || k == first {
		t.Fatalf("KeyAfterRefresh one interval later = %p, %v; want the rotated key", k, err)
	}
	if p.count() != 2 {
		t.Fatalf("fetches = %d, want 2", p.count())
	}
}

func TestSet_ConcurrentUnknownKIDsShareOneFetch(t *testing.T) {
	s, p, _ := newTestSet(t, Options{QueueTimeout: time.Minute, RequestTimeout: time.Minute})
	p.set("a")
	p.release = make(chan struct{})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Key(context.Background(), "a")
		}()
	}
	for { // until one caller fetches and every caller waits for it
		s.mu.Lock()
		queued := s.waiting
		s.mu.Unlock()
		if queued == n && p.count() == 1 {
			break
		}
		runtime.Gosched()
	}
	close(p.release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d: %v", i, err)
		}
	}
	if p.count() != 1 {
		t.Fatalf("fetches = %d, want 1", p.count())
	}
}

func TestSet_QueuedCallerTimesOutAsUnavailable(t *testing.T) {
	s, p, _ := newTestSet(t, Options{QueueTimeout: time.Millisecond, RequestTimeout: time.Minute})
	p.set("a")
	p.release = make(chan struct{})
	defer close(p.release)
	first := make(chan error, 1)
	go func() { _, err := s.Key(context.Background(), "a"); first <- err }()
	for p.count() == 0 {
		runtime.Gosched()
	}
	_, err := s.Key(context.Background(), "a")
	if !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("queued caller: err = %v, want unavailable", err)
	}
}

func TestSet_FetchFailureIsUnavailableAndKeepsOldKeys(t *testing.T) {
	s, p, clock := newTestSet(t, Options{})
	p.set("a")
	ctx := context.Background()
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	p.fail(errors.New("connection refused"))
	clock.advance(time.Second)
	if _, err := s.Key(ctx, "b"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("err = %v, want unavailable", err)
	}
	// Within the interval after the failure: unavailable at once, no fetch.
	if _, err := s.Key(ctx, "c"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("right after the failed refresh: err = %v, want unavailable", err)
	}
	if p.count() != 2 {
		t.Fatalf("fetches = %d, want 2", p.count())
	}
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatalf("old key after failed refresh: %v", err)
	}
}

func TestSet_CancelledCallerIsUnavailable(t *testing.T) {
	s, p, _ := newTestSet(t, Options{RequestTimeout: time.Minute})
	p.set("a")
	p.release = make(chan struct{})
	defer close(p.release)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Key(ctx, "a"); !errors.Is(err, sdk.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want unavailable wrapping context.Canceled", err)
	}
}

func TestSet_CloseStopsARunningRefresh(t *testing.T) {
	s, p, _ := newTestSet(t, Options{RequestTimeout: time.Minute})
	p.set("a")
	p.release = make(chan struct{}) // never closed: only Close can end the fetch
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := s.Key(ctx, "a"); done <- err }()
	for p.count() == 0 {
		runtime.Gosched()
	}
	s.Close() // returns only when the refresh goroutine has ended
	cancel()
	if err := <-done; !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("err = %v, want unavailable", err)
	}
}

func TestNew_RefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "no URL at all", opts: Options{}},
		{name: "relative key set URL", opts: Options{URL: "/jwks.json"}},
		{name: "file URL", opts: Options{URL: "file:///etc/passwd"}},
		{name: "discovery URL without host", opts: Options{DiscoveryURL: "https:///x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); err == nil {
				t.Fatal("New accepted bad options")
			}
		})
	}
}
