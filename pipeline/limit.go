package pipeline

import (
	"container/list"
	"context"
	"crypto/sha256"
	"net"
	"strings"
	"sync"
	"time"
)

// FailureLimit is one auth failure listener (config.dynamic
// auth_failure_listeners), OpenSearch's rate limiters: a client that fails
// AllowedTries times within Window is blocked for BlockFor.
//
// An address limit (Backend empty) keys on the caller's IP (Caller.IP: the
// client X-Forwarded-For names when a trusted proxy sent it, else the TCP
// peer) and counts every request answered 401: a challenge because no
// credentials were found, a continuation challenge (SPNEGO) and the final
// failure. A blocked address gets 401 "Authentication finally failed"
// before any domain runs. OpenSearch keys on the TCP peer alone; behind a
// reverse proxy, where realmd always sits, that is the proxy, and one
// client's failures would block everyone.
//
// A user name limit (Backend set) keys on the user name a client presented
// and counts rejections by the domains whose Domain.BackendClass is Backend.
// While a name is blocked, those domains skip it, so even the right
// password gets a normal 401. OpenSearch matches by the backend's Java
// class, so both name that class, not the plugin that runs it: ldap and
// ldap2 differ, intern and internal do not.
//
// Unlike OpenSearch, a backend that is unavailable counts as no failure: a
// directory that is down must not lock its users out.
type FailureLimit struct {
	Name string
	// Backend is the authentication_backend class a user name limit
	// watches, compared with Domain.BackendClass; empty makes an address
	// limit.
	Backend      string
	AllowedTries int // block at this failure within Window; 1 blocks at the first
	Window       time.Duration
	BlockFor     time.Duration
	MaxTracked   int // clients whose failures are counted, least recently failed dropped first
	MaxBlocked   int // clients blocked at once, earliest block dropped first
	// Ignore reports an address that is never blocked (ignore_hosts; its
	// failures still count). It is asked only for an address that is
	// blocked. Nil ignores none.
	Ignore func(ctx context.Context, ip string) bool
}

// limiter is a FailureLimit's state. A new config generation starts with an
// empty one, as OpenSearch's do.
type limiter struct {
	FailureLimit
	mu       sync.Mutex
	failures *expiring[[]time.Time] // expire after access: Window
	blocked  *expiring[struct{}]    // expire after write: BlockFor
}

func newLimiter(l FailureLimit) *limiter {
	return &limiter{
		FailureLimit: l,
		failures:     newExpiring[[]time.Time](l.Window, max(l.MaxTracked, 1)),
		blocked:      newExpiring[struct{}](l.BlockFor, max(l.MaxBlocked, 1)),
	}
}

func (l *limiter) isBlocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.blocked.get(key, now, false)
	return ok
}

// fail counts one failure of key and reports whether it blocked key.
func (l *limiter) fail(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	var times []time.Time
	if e, ok := l.failures.get(key, now, true); ok {
		times = e.val
	}
	times, block := slide(times, now, l.Window, l.AllowedTries)
	if block {
		l.failures.remove(key) // a block starts the count afresh
		l.blocked.put(key, struct{}{}, now)
		return true
	}
	l.failures.put(key, times, now)
	return false
}

// slide adds a failure at now to the recent failure times and reports
// whether it is the allowed-th within window, as OpenSearch's
// HeapBasedRateTracker does: a failure at least window after the previous
// one starts afresh, failures older than window drop out, and once
// allowed-1 failures are held each new one reports true (the oldest makes
// room). allowed 1 always reports true.
func slide(times []time.Time, now time.Time, window time.Duration, allowed int) ([]time.Time, bool) {
	if allowed <= 1 {
		return nil, true
	}
	if len(times) == 0 || now.Sub(times[len(times)-1]) >= window {
		return append(times[:0], now), false
	}
	i := 0
	for i < len(times) && now.Sub(times[i]) >= window {
		i++
	}
	times = times[i:]
	if len(times) >= allowed-1 {
		return append(times[1:], now), true
	}
	return append(times, now), false
}

// limits are a pipeline's failure limits.
type limits struct {
	address []*limiter            // in config order
	byUser  map[string][]*limiter // by backend class (FailureLimit.Backend)
	now     func() time.Time
	log     Logger
}

func newLimits(ls []FailureLimit, log Logger) *limits {
	out := &limits{byUser: map[string][]*limiter{}, now: time.Now, log: log}
	for _, l := range ls {
		if l.Backend == "" {
			out.address = append(out.address, newLimiter(l))
		} else {
			out.byUser[l.Backend] = append(out.byUser[l.Backend], newLimiter(l))
		}
	}
	return out
}

// addressBlocked is OpenSearch's check before any domain runs: ip is
// blocked when some address limit blocks it and that limit's ignore_hosts
// does not match it. One listener's ignore_hosts never lifts another's
// block, whatever their order (found by review).
func (ls *limits) addressBlocked(ctx context.Context, ip string) bool {
	if ip == "" {
		return false
	}
	now := ls.now()
	for _, l := range ls.address {
		// ignore_hosts is matched only for a block: the common case is none.
		if l.isBlocked(ip, now) && (l.Ignore == nil || !l.Ignore(ctx, ip)) {
			return true
		}
	}
	return false
}

// addressFailed counts a 401 for ip.
func (ls *limits) addressFailed(ip string) {
	if ip == "" {
		return
	}
	now := ls.now()
	for _, l := range ls.address {
		if l.fail(ip, now) {
			ls.log.Warn("client address blocked after failed logins", "limit", l.Name, "address", ip, "for", l.BlockFor.String())
		}
	}
}

// userBlocked reports whether a limit on d's backend class blocks the user
// name.
func (ls *limits) userBlocked(d *Domain, user string) bool {
	lims := ls.byUser[d.BackendClass]
	if len(lims) == 0 {
		return false
	}
	key, now := userKey(user), ls.now()
	for _, l := range lims {
		if l.isBlocked(key, now) {
			return true
		}
	}
	return false
}

// userFailed counts a rejection of user by d's backend.
func (ls *limits) userFailed(d *Domain, user string) {
	lims := ls.byUser[d.BackendClass]
	if len(lims) == 0 {
		return
	}
	key, now := userKey(user), ls.now()
	for _, l := range lims {
		if l.fail(key, now) {
			ls.log.Warn("user name blocked after failed logins", "limit", l.Name, "user", LogText(user), "for", l.BlockFor.String())
		}
	}
}

// userKey is what a user name limit counts by. Case and runs of spaces are
// folded, because a directory treats "Alice", "alice" and " alice" as one
// entry: counting them apart would let a client guess three times as often.
// The key is a hash, so a client choosing long names costs 32 bytes each.
func userKey(user string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.Join(strings.Fields(user), " "))))
	return string(sum[:])
}

// addressIP is the IP of an address, without its port: "10.0.0.1" for
// "10.0.0.1:40000", "::1" for "[::1]:80", "[::1]" and "::1". An address
// without a port is returned as it is, brackets removed.
func addressIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	if inner, ok := strings.CutPrefix(addr, "["); ok {
		if inner, ok = strings.CutSuffix(inner, "]"); ok {
			return inner
		}
	}
	return addr
}

// expiring is a size-bounded map whose entries expire ttl after they were
// written (or touched, for expire-after-access); the least recently
// written or touched entry goes first when it is full.
type expiring[V any] struct {
	ttl   time.Duration
	max   int
	order *list.List // of *expiringEntry[V], most recent first
	items map[string]*list.Element
}

type expiringEntry[V any] struct {
	key string
	val V
	at  time.Time
}

func newExpiring[V any](ttl time.Duration, max int) *expiring[V] {
	return &expiring[V]{ttl: ttl, max: max, order: list.New(), items: map[string]*list.Element{}}
}

// get returns key's live entry; touch renews it.
func (e *expiring[V]) get(key string, now time.Time, touch bool) (*expiringEntry[V], bool) {
	el, ok := e.items[key]
	if !ok {
		return nil, false
	}
	ent := el.Value.(*expiringEntry[V])
	if now.Sub(ent.at) >= e.ttl {
		e.order.Remove(el)
		delete(e.items, key)
		return nil, false
	}
	if touch {
		ent.at = now
		e.order.MoveToFront(el)
	}
	return ent, true
}

func (e *expiring[V]) put(key string, val V, now time.Time) {
	if el, ok := e.items[key]; ok {
		e.order.Remove(el)
	}
	e.items[key] = e.order.PushFront(&expiringEntry[V]{key: key, val: val, at: now})
	for len(e.items) > e.max {
		last := e.order.Back()
		e.order.Remove(last)
		delete(e.items, last.Value.(*expiringEntry[V]).key)
	}
}

func (e *expiring[V]) remove(key string) {
	if el, ok := e.items[key]; ok {
		e.order.Remove(el)
		delete(e.items, key)
	}
}
