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
	// ErrUnusableKey: the entry the token selects is one realmd cannot
	// verify with (an encryption key, a weak or invalid key).
	ErrUnusableKey = errors.New("the key set's entry for this token is not a usable signing key")
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
	keys []*Key // the usable ones, in document order
	// entries counts the entries of a known key type, usable or not.
	entries int
	// byID maps each kid to its first entry: nil when that entry is not
	// usable.
	byID map[string]*Key
}

// lookup finds the entry for kid; with no kid, the set's only entry. found
// reports whether there is one: k is nil when it is not usable.
func (ks *keySet) lookup(kid string) (k *Key, found bool) {
	if kid == "" {
		if ks.entries != 1 {
			return nil, false
		}
		if len(ks.keys) == 1 {
			return ks.keys[0], true
		}
		return nil, true
	}
	k, found = ks.byID[kid]
	return k, found
}

// key is lookup's answer as Key gives it.
func (ks *keySet) key(kid string) (*Key, bool, error) {
	k, found := ks.lookup(kid)
	switch {
	case !found:
		return nil, false, nil
	case k == nil:
		return nil, true, ErrUnusableKey
	}
	return k, true, nil
}

// flight is one refresh in progress; done is closed when it ends.
type flight struct {
	done chan struct{}
	err  error
}

// Set is a lazily loaded, self-refreshing key set. It is safe for concurrent
// use. The first lookup fetches the set; a lookup for an unknown kid
// refreshes it, unless a refresh is in flight or was sent within the last
// interval (Options.RefreshWindow / Options.RefreshLimit): then the kid is
// refused at once from the current set. So no sequence of lookups makes the
// set fetch more often than once per interval, and once a set has loaded
// only the lookup that started a refresh waits for it.
type Set struct {
	opts     Options
	interval time.Duration // minimum spacing of refresh starts
	logger   hclog.Logger
	fetch    func(ctx context.Context) (*keySet, error)
	client   *http.Client
	now      func() time.Time

	keys atomic.Pointer[keySet]

	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	flight  *flight   // the refresh in flight, nil when none
	sent    time.Time // when the last refresh was started; zero before the first
	lastErr error     // the error of the last refresh that ended
	loaded  bool      // a refresh has succeeded: there is a set to answer from
	fetches uint64    // refreshes started, for logs
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
// A kid in the set is answered at once. For a kid not in the set, Key starts
// a refresh when none was started within the last refresh interval, waits
// for it and looks kid up once; when a refresh is in flight or was started
// within the interval, it looks kid up at once without waiting or fetching
// (before the first set has loaded, it waits for the fetch in flight
// instead). Errors: ErrUnknownKID and ErrKIDRequired when the token cannot
// match the set so refreshed; errors wrapping sdk.ErrUnavailable when that
// refresh failed, or could not be waited for (ctx; QueueTimeout for the
// first set).
func (s *Set) Key(ctx context.Context, kid string) (*Key, error) {
	if k, found, err := s.keys.Load().key(kid); found {
		return k, err
	}
	return s.keyAfter(ctx, kid, false)
}

// KeyAfterRefresh looks kid up after a refresh, by the rule of Key, even
// when kid is in the current set: it waits for the refresh in flight or
// starts one, except when a refresh was started within the last interval
// and has ended, in which case it answers from the current set at once (no
// newer set can be had yet). The JWT verifier calls it once when a token
// without kid fails to verify with the only key, in case the provider
// rotated it.
func (s *Set) KeyAfterRefresh(ctx context.Context, kid string) (*Key, error) {
	return s.keyAfter(ctx, kid, true)
}

// keyAfter refreshes the set as refresh allows and then looks kid up. With
// force, the set is refreshed even when it holds kid.
func (s *Set) keyAfter(ctx context.Context, kid string, force bool) (*Key, error) {
	if err := s.refresh(ctx, kid, force); err != nil {
		return nil, err
	}
	ks := s.keys.Load()
	if k, found, err := ks.key(kid); found {
		return k, err
	}
	switch {
	case kid != "":
		return nil, ErrUnknownKID
	case ks.entries == 0:
		return nil, fmt.Errorf("%w: the key set has no usable keys", sdk.ErrUnavailable)
	default:
		return nil, ErrKIDRequired
	}
}

// refresh returns once the set is as fresh as the rate limit allows: at
// once when the set holds kid (unless force), when a refresh is in flight
// and a set has loaded (nil), or when a refresh was started less than one
// interval ago and has ended (nil, or that refresh's error when it
// failed); otherwise after the refresh it starts, or the first fetch in
// flight, has ended (its error), or when the caller cannot wait for it
// (unavailable). It starts a refresh at most once per interval.
func (s *Set) refresh(ctx context.Context, kid string, force bool) error {
	s.mu.Lock()
	if !force {
		// A refresh may have brought kid since the caller looked.
		if _, ok := s.keys.Load().lookup(kid); ok {
			s.mu.Unlock()
			return nil
		}
	}
	f, own := s.flight, false
	if f != nil && s.loaded {
		// Only the caller that started a refresh waits for it. Any number of
		// forged kids can arrive meanwhile, and a provider that answers
		// slowly would otherwise hold one plugin worker per forged token.
		// They are answered from the current set; a genuine key the
		// refresh brings is found on the client's next try.
		s.mu.Unlock()
		return nil
	}
	if f == nil {
		if !s.sent.IsZero() && s.now().Sub(s.sent) < s.interval {
			err := s.lastErr
			s.mu.Unlock()
			return err
		}
		f, own = s.start(), true
	}
	// The caller that started the refresh waits for its end (it ends within
	// RequestTimeout); before the first set has arrived, callers that
	// joined it wait at most QueueTimeout.
	var timeout time.Duration
	if !own {
		timeout = s.opts.QueueTimeout
	}
	s.waiting++
	s.mu.Unlock()
	err := s.wait(ctx, f, timeout)
	s.mu.Lock()
	s.waiting--
	s.mu.Unlock()
	return err
}

// start records a refresh as sent now and starts the goroutine that
// performs it. s.mu is held and no refresh is in flight.
func (s *Set) start() *flight {
	f := &flight{done: make(chan struct{})}
	s.flight = f
	s.sent = s.now()
	s.fetches++
	s.wg.Add(1)
	go s.run(f, s.fetches)
	return f
}

// run performs refresh number n. It is owned by the Set: Close cancels it
// and waits for it.
func (s *Set) run(f *flight, n uint64) {
	defer s.wg.Done()
	s.logger.Debug("refreshing key set", "refresh", n)
	ctx, cancel := context.WithTimeout(s.base, s.opts.RequestTimeout)
	ks, err := s.fetch(ctx)
	cancel()
	if err != nil {
		if s.base.Err() == nil {
			s.logger.Warn("key set refresh failed", "error", err)
		}
		err = fmt.Errorf("%w: %w", sdk.ErrUnavailable, err)
	}
	s.mu.Lock()
	if err == nil && ks != nil {
		s.keys.Store(ks)
		s.loaded = true
	}
	f.err, s.lastErr = err, err
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
