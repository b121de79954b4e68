package core

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

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
	}, maxLookupEntries, maxLookupsInFlight)
	addrLookups = newLookupCache(lookupAddr, maxLookupEntries, maxLookupsInFlight)
)

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
	}
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
