package jwks

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realmd/realmd/sdk"
)

// fakeProvider is a key-set source under the test's control.
type fakeProvider struct {
	mu      sync.Mutex
	keys    *keySet
	err     error
	calls   int
	release chan struct{} // when non-nil, fetch blocks until it is closed
}

func (p *fakeProvider) fetch(ctx context.Context) (*keySet, error) {
	p.mu.Lock()
	p.calls++
	release := p.release
	p.mu.Unlock()
	if release != nil {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys, p.err
}

func (p *fakeProvider) set(ids ...string) {
	ks := &keySet{byID: map[string]*Key{}}
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

// fakeClock is a settable time source.
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
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

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
	p := &fakeProvider{}
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	s.fetch, s.now = p.fetch, clock.now
	return s, p, clock
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
	s, p, _ := newTestSet(t, Options{})
	p.set("old")
	if _, err := s.Key(context.Background(), "old"); err != nil {
		t.Fatal(err)
	}
	p.set("new")
	k, err := s.Key(context.Background(), "new")
	if err != nil || k.ID != "new" {
		t.Fatalf("Key(new) = %v, %v", k, err)
	}
	if p.count() != 2 {
		t.Fatalf("fetches = %d, want 2", p.count())
	}
}

func TestSet_RateLimitsUnknownKIDs(t *testing.T) {
	s, p, clock := newTestSet(t, Options{RefreshWindow: 10 * time.Second, RefreshLimit: 3})
	p.set("a")
	ctx := context.Background()
	if _, err := s.Key(ctx, "a"); err != nil { // initial load, outside any window
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Key(ctx, "unknown"); !errors.Is(err, ErrUnknownKID) {
			t.Fatalf("refresh %d: err = %v, want ErrUnknownKID", i+1, err)
		}
	}
	_, err := s.Key(ctx, "unknown")
	if !errors.Is(err, sdk.ErrUnavailable) || !strings.Contains(err.Error(), "too many unknown kids recently") {
		t.Fatalf("4th refresh in window: err = %v, want unavailable (too many unknown kids)", err)
	}
	if p.count() != 4 {
		t.Fatalf("fetches = %d, want 4 (the limited one must not fetch)", p.count())
	}
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatalf("known kid while limited: %v", err)
	}
	clock.advance(11 * time.Second)
	if _, err := s.Key(ctx, "unknown"); !errors.Is(err, ErrUnknownKID) {
		t.Fatalf("after the window: err = %v, want ErrUnknownKID", err)
	}
	if p.count() != 5 {
		t.Fatalf("fetches = %d, want 5", p.count())
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
	for { // until one caller fetches and the others queue behind it
		s.mu.Lock()
		queued := s.waiting
		s.mu.Unlock()
		if queued == n-1 && p.count() == 1 {
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
	s, p, _ := newTestSet(t, Options{})
	p.set("a")
	ctx := context.Background()
	if _, err := s.Key(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	p.fail(errors.New("connection refused"))
	if _, err := s.Key(ctx, "b"); !errors.Is(err, sdk.ErrUnavailable) {
		t.Fatalf("err = %v, want unavailable", err)
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
