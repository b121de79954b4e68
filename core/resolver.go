package core

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/singleflight"
)

// How long a DNS answer and a DNS failure are kept: Java's defaults
// (networkaddress.cache.ttl, 30 s without a security manager;
// networkaddress.cache.negative.ttl, 10 s), which OpenSearch's lookups of
// an X-Forwarded-For name and of a caller's host name go through.
const (
	lookupTTL        = 30 * time.Second
	lookupFailureTTL = 10 * time.Second
	// lookupTimeout bounds one lookup, whoever waits for it.
	lookupTimeout = 2 * time.Second
	// maxLookupEntries bounds each cache: a client can choose any number
	// of names (X-Forwarded-For) or addresses.
	maxLookupEntries = 4096
	// maxLookupsInFlight bounds each cache's lookups running at once.
	maxLookupsInFlight = 32
	// maxDNSName is the longest name DNS can carry (253 bytes, and a
	// trailing dot).
	maxDNSName = 254
)

// The caches every DNS lookup in core goes through: X-Forwarded-For names,
// and the forward-confirmed host names of addresses (lookupAddr) for role
// mapping hosts and ignore_hosts. They call resolver when they run, so a
// test that replaces resolver sees their lookups.
var (
	hostLookups = newLookupCache(func(ctx context.Context, name string) ([]string, error) {
		return resolver.LookupHost(ctx, name)
	}, maxLookupEntries, maxLookupsInFlight).describe(
		"X-Forwarded-For host names",
		"each request whose X-Forwarded-For names its client by a host name not looked up recently was answered 500")
	addrLookups = newLookupCache(lookupAddr, maxLookupEntries, maxLookupsInFlight).describe(
		"host names of client addresses (hosts_resolver_mode ip-hostname-lookup)",
		"role mapping got no host name for those requests: hosts patterns and ignore_hosts entries written as names did not match them")
)

// refusalLogEvery is how often at most a lookupCache logs the lookups it
// refused: under a flood each request is refused, and one line each would
// bury the log.
const refusalLogEvery = 10 * time.Second

// errTooManyLookups is a lookup refused because maxLookupsInFlight were
// running: a flood of distinct names must not open a goroutine and a
// socket each. It is not cached.
var errTooManyLookups = fmt.Errorf("too many DNS lookups at once (%d); retry later", maxLookupsInFlight)

// lookupCache keeps the answers of a DNS lookup, as Java's InetAddress
// cache does: an answer lookupTTL, a failure lookupFailureTTL. Lookups of
// one name running together are one lookup; at most maxInFlight run at
// once, and a lookup beyond that fails at once with errTooManyLookups.
type lookupCache struct {
	lookup func(ctx context.Context, name string) ([]string, error)
	now    func() time.Time // time.Now; a variable for tests
	max    int
	slots  chan struct{}
	flight singleflight.Group

	mu      sync.Mutex
	entries map[string]lookupEntry

	refusals refusalLog
	// refusalEvery is refusalLogEvery; a variable for tests.
	refusalEvery time.Duration
}

// refusalLog counts the lookups a cache refused, for a warning logged at
// most once per refusalEvery with the count since the last line. Refusals
// that no later one reports are logged by a timer when the period ends,
// so no count is lost when the flood stops.
type refusalLog struct {
	mu      sync.Mutex
	logger  hclog.Logger // nil: not logged (tests, realmd check)
	what    string       // the lookups, for the log line
	effect  string       // what a refusal did to the requests
	last    time.Time    // when the last line was logged
	pending int          // refusals since then
	timer   *time.Timer  // logs pending at the period's end; nil when none is set
	armed   uint64       // how many timers were armed: the current one's number
}

type lookupEntry struct {
	answer  []string
	err     error
	expires time.Time
}

// newLookupCache caches lookup's answers, keeping at most maxEntries and
// running at most maxInFlight lookups at once.
func newLookupCache(lookup func(ctx context.Context, name string) ([]string, error), maxEntries, maxInFlight int) *lookupCache {
	return &lookupCache{
		lookup: lookup, now: time.Now, max: maxEntries,
		slots: make(chan struct{}, maxInFlight), entries: map[string]lookupEntry{},
		refusalEvery: refusalLogEvery, refusals: refusalLog{what: "DNS lookups"},
	}
}

// describe names c's lookups and what a refused one does, for the warning
// about refusals. It returns c.
func (c *lookupCache) describe(what, effect string) *lookupCache {
	c.refusals.what, c.refusals.effect = what, effect
	return c
}

// setLogger makes c log the lookups it refuses to logger (see refused).
func (c *lookupCache) setLogger(logger hclog.Logger) {
	c.refusals.mu.Lock()
	defer c.refusals.mu.Unlock()
	c.refusals.logger = logger
}

// refused counts a lookup refused at the bound, and logs the count at
// once if no line was logged within refusalEvery, else when that period
// ends.
func (c *lookupCache) refused() {
	r := &c.refusals
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.logger == nil {
		return
	}
	r.pending++
	now := c.now()
	if wait := r.last.Add(c.refusalEvery).Sub(now); wait > 0 {
		if r.timer == nil {
			r.armed++
			armed := r.armed
			r.timer = time.AfterFunc(wait, func() { c.periodEnded(armed) })
		}
		return
	}
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	c.logRefusals(now)
}

// periodEnded is the callback of the timer refused armed as its armed-th:
// it logs the refusals counted since the last line, unless refused has
// meanwhile stopped that timer and logged them itself. A timer may fire
// while refused holds the lock; without the check its callback then logged
// a second line at once and dropped the timer refused had armed since
// (found by review: hundreds of lines a second under a flood).
func (c *lookupCache) periodEnded(armed uint64) {
	r := &c.refusals
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.timer == nil || r.armed != armed {
		return
	}
	r.timer = nil
	c.logRefusals(c.now())
}

// logRefusals logs the refusals counted since the last line, if any.
// refusals.mu is held.
func (c *lookupCache) logRefusals(now time.Time) {
	r := &c.refusals
	if r.pending == 0 {
		return
	}
	// refused counts those since the last such line.
	r.logger.Warn("DNS lookups refused: too many were running at once; check that the DNS server answers promptly (a lookup may take up to "+lookupTimeout.String()+")",
		"lookups", r.what, "refused", r.pending, "running", cap(c.slots), "effect", r.effect)
	r.pending, r.last = 0, now
}

// Lookup returns name's answer: the one kept, or a new lookup's. The
// lookup runs apart from ctx (for at most lookupTimeout), so that a caller
// that leaves does not fail the others waiting for it; Lookup returns
// ctx's error when ctx ends first. The answer is shared: callers must not
// change it. A name longer than DNS can carry is not found, and neither
// looked up nor kept.
func (c *lookupCache) Lookup(ctx context.Context, name string) ([]string, error) {
	if len(name) > maxDNSName {
		return nil, &net.DNSError{Err: "name too long", Name: name[:maxDNSName] + "...", IsNotFound: true}
	}
	if e, ok := c.get(name); ok {
		return e.answer, e.err
	}
	ch := c.flight.DoChan(name, func() (any, error) {
		select {
		case c.slots <- struct{}{}:
		default:
			c.refused()
			return nil, errTooManyLookups
		}
		defer func() { <-c.slots }()
		lctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
		defer cancel()
		answer, err := c.lookup(lctx, name)
		c.put(name, lookupEntry{answer: answer, err: err})
		return answer, err
	})
	select {
	case r := <-ch:
		answer, _ := r.Val.([]string)
		return answer, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *lookupCache) get(name string) (lookupEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[name]
	if ok && !c.now().Before(e.expires) {
		delete(c.entries, name)
		return lookupEntry{}, false
	}
	return e, ok
}

// put keeps e for name. A full cache first drops what has expired among a
// few entries, or else one entry: the map's order picks them.
func (c *lookupCache) put(name string, e lookupEntry) {
	now := c.now()
	e.expires = now.Add(lookupTTL)
	if e.err != nil {
		e.expires = now.Add(lookupFailureTTL)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[name]; !ok && len(c.entries) >= c.max {
		const scan = 16
		seen, dropped, first := 0, false, ""
		for k, old := range c.entries {
			if seen == 0 {
				first = k
			}
			if !now.Before(old.expires) {
				delete(c.entries, k)
				dropped = true
			}
			if seen++; seen == scan {
				break
			}
		}
		if !dropped {
			delete(c.entries, first)
		}
	}
	c.entries[name] = e
}

// len is the number of names kept.
func (c *lookupCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
