// Package jwks keeps a JSON Web Key Set fetched from an identity provider and
// refreshes it, rate-limited, when a token names a key it does not know.
package jwks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// Errors a lookup returns for a token whose key cannot be found. They mean
// "bad credentials", not "unavailable": the key set was read successfully.
var (
	// ErrUnknownKID: no key in the (refreshed) set has the token's kid.
	ErrUnknownKID = errors.New("no key with this kid")
	// ErrKIDRequired: the token has no kid and the set holds several keys.
	ErrKIDRequired = errors.New("token has no kid but the key set has several keys")
)

// Key is one verification key of a set.
type Key struct {
	// ID is the JWK "kid", "" when absent.
	ID string
	// Algorithm is the JWK "alg", "" when absent. When set, a token must use
	// exactly this algorithm.
	Algorithm string
	// Public is *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, or
	// []byte for a symmetric ("oct") key.
	Public any
}

// keySet is an immutable snapshot of the keys.
type keySet struct {
	keys []*Key
	byID map[string]*Key
}

// lookup finds the key for kid; with no kid it succeeds only when the set
// has exactly one key.
func (ks *keySet) lookup(kid string) (*Key, bool) {
	if kid == "" {
		if len(ks.keys) == 1 {
			return ks.keys[0], true
		}
		return nil, false
	}
	k, ok := ks.byID[kid]
	return k, ok
}

// flight is one refresh in progress; done is closed when it ends.
type flight struct {
	done chan struct{}
	err  error
}

// Set is a lazily loaded, self-refreshing key set. It is safe for concurrent
// use. The first lookup fetches the set; a lookup for an unknown kid
// refreshes it, at most Options.RefreshLimit times per RefreshWindow;
// concurrent lookups share one refresh.
type Set struct {
	opts   Options
	logger hclog.Logger
	fetch  func(ctx context.Context) (*keySet, error)
	client *http.Client
	now    func() time.Time

	keys atomic.Pointer[keySet]

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	flight      *flight
	windowStart time.Time // last refresh outside the rate-limit window
	recent      int       // refreshes inside the current window
	waiting     int       // callers waiting on another caller's refresh
	fetches     int       // refreshes started, for tests and logs
}

// New returns a Set for opts. It does no I/O: the set is fetched on first use.
func New(opts Options) (*Set, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Set{
		opts:   opts,
		logger: opts.Logger,
		now:    time.Now,
		base:   base,
		cancel: cancel,
	}
	s.keys.Store(&keySet{})
	f := newFetcher(opts)
	s.fetch, s.client = f.fetch, f.client
	return s, nil
}

// Key returns the key a token with this kid is verified with. kid is used as
// given (see UnescapeKID). An empty kid selects the only key of the set.
// A kid not in the set triggers a refresh. Errors: ErrUnknownKID and
// ErrKIDRequired for tokens that cannot match; errors wrapping
// sdk.ErrUnavailable when the set cannot be fetched or the refresh rate
// limit is exceeded.
func (s *Set) Key(ctx context.Context, kid string) (*Key, error) {
	if k, ok := s.keys.Load().lookup(kid); ok {
		return k, nil
	}
	return s.KeyAfterRefresh(ctx, kid)
}

// KeyAfterRefresh refreshes the set (rate-limited, shared with concurrent
// callers) and then looks kid up. The JWT verifier calls it once when a
// token without kid fails to verify with the only key, in case the provider
// rotated it.
func (s *Set) KeyAfterRefresh(ctx context.Context, kid string) (*Key, error) {
	if err := s.refresh(ctx); err != nil {
		// Another caller's refresh may have brought the key even if ours
		// was limited.
		if k, ok := s.keys.Load().lookup(kid); ok {
			return k, nil
		}
		return nil, err
	}
	ks := s.keys.Load()
	if k, ok := ks.lookup(kid); ok {
		return k, nil
	}
	switch {
	case kid != "":
		return nil, ErrUnknownKID
	case len(ks.keys) == 0:
		return nil, fmt.Errorf("%w: the key set has no usable keys", sdk.ErrUnavailable)
	default:
		return nil, ErrKIDRequired
	}
}

// refresh fetches the set again, or waits for a refresh already running.
func (s *Set) refresh(ctx context.Context) error {
	s.mu.Lock()
	if f := s.flight; f != nil {
		s.waiting++
		s.mu.Unlock()
		err := s.wait(ctx, f, s.opts.QueueTimeout)
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
		return err
	}
	recent := !s.windowStart.IsZero() && s.now().Sub(s.windowStart) < s.opts.RefreshWindow
	if recent {
		s.recent++
		if s.recent > s.opts.RefreshLimit {
			n := s.recent
			s.mu.Unlock()
			return fmt.Errorf("%w: too many unknown kids recently: %d", sdk.ErrUnavailable, n)
		}
	}
	f := &flight{done: make(chan struct{})}
	s.flight = f
	s.fetches++
	n := s.fetches
	s.mu.Unlock()

	s.logger.Debug("refreshing key set", "refresh", n)
	s.wg.Add(1)
	go s.run(f, recent)
	// No timer of our own: the refresh ends within RequestTimeout.
	return s.wait(ctx, f, 0)
}

// run performs one refresh. It is owned by the Set: Close cancels it and
// waits for it.
func (s *Set) run(f *flight, recent bool) {
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.base, s.opts.RequestTimeout)
	ks, err := s.fetch(ctx)
	cancel()
	if err != nil {
		s.logger.Warn("key set refresh failed", "error", err)
		err = fmt.Errorf("%w: %w", sdk.ErrUnavailable, err)
	}
	s.mu.Lock()
	if err == nil && ks != nil {
		s.keys.Store(ks)
	}
	if !recent {
		s.recent = 0
		s.windowStart = s.now()
	}
	f.err = err
	s.flight = nil
	s.mu.Unlock()
	close(f.done)
}

// wait waits for f, at most timeout (0: no limit of its own), and for no
// longer than ctx allows.
func (s *Set) wait(ctx context.Context, f *flight, timeout time.Duration) error {
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for key set refresh: %w", sdk.ErrUnavailable, ctx.Err())
	case <-expired:
		return fmt.Errorf("%w: timed out waiting for key set refresh", sdk.ErrUnavailable)
	}
}

// Close stops a refresh in progress and waits for it. The Set must not be
// used afterwards. Close may be called more than once.
func (s *Set) Close() {
	s.cancel()
	s.wg.Wait()
	s.client.CloseIdleConnections()
}

// Len reports how many usable keys the current snapshot holds.
func (s *Set) Len() int { return len(s.keys.Load().keys) }
