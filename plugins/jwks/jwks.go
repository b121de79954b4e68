// Package jwks keeps a JSON Web Key Set fetched from an identity provider and
// refreshes it, rate-limited and shared, when a token names a key it does not
// know.
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

// flight is one refresh, pending or running; done is closed when it ends.
type flight struct {
	start time.Time // when it is due
	gen   uint64    // Set.gen once the request is sent, 0 before
	done  chan struct{}
	err   error
}

// Set is a lazily loaded, self-refreshing key set. It is safe for concurrent
// use. The first lookup fetches the set; a lookup for an unknown kid
// refreshes it. Refreshes are spaced at least Options.RefreshWindow /
// Options.RefreshLimit apart and shared by every caller that needs one, so
// no sequence of lookups makes it fetch more often than that, and none can
// push the next refresh further away than one interval.
type Set struct {
	opts     Options
	interval time.Duration // minimum spacing of refresh starts
	logger   hclog.Logger
	fetch    func(ctx context.Context) (*keySet, error)
	client   *http.Client
	now      func() time.Time
	after    func(time.Duration) <-chan time.Time

	keys atomic.Pointer[keySet]
	gen  atomic.Uint64 // refreshes whose request has been sent

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	flight  *flight   // the pending or running refresh, nil when none
	last    *flight   // the last refresh that ended
	next    time.Time // earliest send of the next refresh: one interval after the last
	waiting int       // callers waiting for a refresh, for tests
}

// New returns a Set for opts. It does no I/O: the set is fetched on first use.
func New(opts Options) (*Set, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	base, cancel := context.WithCancel(context.Background())
	s := &Set{
		opts:     opts,
		interval: opts.refreshInterval(),
		logger:   opts.Logger,
		now:      time.Now,
		after:    time.After,
		base:     base,
		cancel:   cancel,
	}
	s.keys.Store(&keySet{})
	f := newFetcher(opts)
	s.fetch, s.client = f.fetch, f.client
	return s, nil
}

// Key returns the key a token with this kid is verified with. kid is used as
// given (see UnescapeKID). An empty kid selects the only key of the set.
// A kid not in the set waits for a refresh that starts after the call (at
// most one refresh interval away, see Set). Errors: ErrUnknownKID and
// ErrKIDRequired when that refresh succeeded and the token still cannot
// match; errors wrapping sdk.ErrUnavailable when the refresh failed, or
// could not be waited for (QueueTimeout, ctx).
func (s *Set) Key(ctx context.Context, kid string) (*Key, error) {
	arrived := s.gen.Load()
	if k, ok := s.keys.Load().lookup(kid); ok {
		return k, nil
	}
	return s.keyAfter(ctx, kid, arrived, false)
}

// KeyAfterRefresh waits for a refresh that starts after the call (shared
// and spaced as for Key) and then looks kid up, even when kid is in the
// current set. The JWT verifier calls it once when a token without kid
// fails to verify with the only key, in case the provider rotated it.
func (s *Set) KeyAfterRefresh(ctx context.Context, kid string) (*Key, error) {
	return s.keyAfter(ctx, kid, s.gen.Load(), true)
}

// keyAfter looks kid up once the set holds it or a refresh sent after the
// caller read arrived from s.gen has succeeded. With force, only the latter
// will do.
func (s *Set) keyAfter(ctx context.Context, kid string, arrived uint64, force bool) (*Key, error) {
	if err := s.refreshAfter(ctx, kid, arrived, force); err != nil {
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

// refreshAfter returns nil when the set holds kid (unless force) or a
// refresh sent after the caller's arrival (its gen above arrived) has
// succeeded; the error of that refresh when it failed; or unavailability
// when the caller cannot wait for it.
//
// A refresh sent before the caller arrived cannot vouch that kid is unknown:
// the caller waits for it (the key may come with it) and then for the next
// one. The next refresh is due one interval after the previous one; all
// callers that arrive before it share it, so it is the same refresh for a
// genuine token and for any number of forged ones.
func (s *Set) refreshAfter(ctx context.Context, kid string, arrived uint64, force bool) error {
	for {
		s.mu.Lock()
		if !force {
			if _, ok := s.keys.Load().lookup(kid); ok {
				s.mu.Unlock()
				return nil
			}
		}
		if l := s.last; l != nil && l.gen > arrived {
			s.mu.Unlock()
			return l.err
		}
		f, own := s.flight, false
		if f == nil {
			f, own = s.schedule(), true
		}
		now := s.now()
		due := f.start.Sub(now)
		if due > s.opts.QueueTimeout {
			s.mu.Unlock()
			return fmt.Errorf("%w: key set refresh rate limit: next refresh in %s", sdk.ErrUnavailable, due.Round(time.Millisecond))
		}
		// The caller whose need scheduled the refresh waits for its end
		// (the refresh ends within RequestTimeout of its start); others wait
		// at most QueueTimeout once it has started.
		var timeout time.Duration
		if !own {
			timeout = max(due, 0) + s.opts.QueueTimeout
		}
		s.waiting++
		s.mu.Unlock()
		err := s.wait(ctx, f, timeout)
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
		if err != nil || f.gen > arrived {
			return err
		}
		// f was sent before the caller's lookup; its answer does not count.
	}
}

// schedule creates the next refresh, due at once or one interval after the
// previous one was sent, and starts the goroutine that performs it. s.mu is
// held.
func (s *Set) schedule() *flight {
	now := s.now()
	start := now
	var due <-chan time.Time
	if s.next.After(now) {
		start = s.next
		due = s.after(s.next.Sub(now))
	}
	f := &flight{start: start, done: make(chan struct{})}
	s.flight = f
	s.logger.Debug("key set refresh scheduled", "in", start.Sub(now))
	s.wg.Add(1)
	go s.run(f, due)
	return f
}

// run performs one refresh when due fires (nil: at once). It is owned by
// the Set: Close cancels it and waits for it.
func (s *Set) run(f *flight, due <-chan time.Time) {
	defer s.wg.Done()
	var ks *keySet
	var err error
	if due != nil {
		select {
		case <-due:
		case <-s.base.Done():
			err = s.base.Err()
		}
	}
	if err == nil {
		s.mu.Lock()
		f.gen = s.gen.Add(1)
		s.next = s.now().Add(s.interval) // timers fire late, never early
		s.mu.Unlock()
		s.logger.Debug("refreshing key set", "refresh", f.gen)
		ctx, cancel := context.WithTimeout(s.base, s.opts.RequestTimeout)
		ks, err = s.fetch(ctx)
		cancel()
	}
	if err != nil {
		if s.base.Err() == nil {
			s.logger.Warn("key set refresh failed", "error", err)
		}
		err = fmt.Errorf("%w: %w", sdk.ErrUnavailable, err)
	}
	s.mu.Lock()
	if err == nil && ks != nil {
		s.keys.Store(ks)
	}
	f.err = err
	s.flight, s.last = nil, f
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
