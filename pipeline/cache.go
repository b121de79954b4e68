package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/realmd/realmd/sdk"
)

// cacheKey is a SHA-256 over the request parts that some authenticator
// reads: the credential, and nothing else, so that two requests with the same
// credential share an entry and the credential itself is never stored.
type cacheKey [sha256.Size]byte

// keyInputs is the union of every domain's declared inputs, sorted.
type keyInputs struct {
	headers       []string
	query         []string
	peerCerts     bool
	clientAddress bool
	// anonymous: whether a request is an anonymous login changes the
	// chain's answer, so it is part of the key.
	anonymous bool
}

func unionInputs(domains []Domain) keyInputs {
	var k keyInputs
	for _, d := range domains {
		k.headers = append(k.headers, canonicalHeaders(d.Inputs.Headers)...)
		k.query = append(k.query, d.Inputs.Query...)
		k.peerCerts = k.peerCerts || d.Inputs.PeerCertificates
		k.clientAddress = k.clientAddress || d.Inputs.ClientAddress
	}
	slices.Sort(k.headers)
	k.headers = slices.Compact(k.headers)
	slices.Sort(k.query)
	k.query = slices.Compact(k.query)
	return k
}

// key hashes r's credential parts. ok is false when r carries none of them
// (no declared header, query parameter or certificate has a value): such a
// request has nothing to cache under. The client and socket addresses and
// the anonymous-login flag refine a key but are no credential. Each address
// counts by its IP only, each as its own field: every connection comes from
// a new port, so with the port in the key a realm that reads the addresses
// would never be served from the cache.
func (k keyInputs) key(r *sdk.Request) (key cacheKey, ok bool) {
	h := sha256.New()
	write := func(tag byte, v string) {
		var n [9]byte
		n[0] = tag
		binary.BigEndian.PutUint64(n[1:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	for _, name := range k.headers {
		write('h', name)
		for _, v := range r.Header[name] {
			write('v', v)
			ok = true
		}
	}
	for _, name := range k.query {
		write('q', name)
		for _, v := range r.Query[name] {
			write('v', v)
			ok = true
		}
	}
	if k.peerCerts {
		for _, c := range r.PeerCertificates {
			write('c', string(c))
			ok = true
		}
	}
	if !ok {
		return key, false
	}
	if k.clientAddress {
		write('a', addressIP(r.ClientAddress))
		write('s', addressIP(r.SocketAddress))
	}
	if k.anonymous && isAnonymousLogin(r) {
		write('n', "")
	}
	h.Sum(key[:0])
	return key, true
}

// maxCacheEntries bounds the identity cache, so that a flood of distinct
// credentials cannot grow it without limit (Elasticsearch's realm cache
// uses the same number).
const maxCacheEntries = 100_000

type cacheEntry struct {
	user   sdk.User
	domain *Domain
	// username is the credentials' user name, which a user name limit
	// counts and blocks; user.LoginName is whatever the backend answered.
	username string
	// roles are the mapped roles when they do not depend on the caller
	// (no `hosts` patterns); nil means map on every hit.
	roles   []string
	expires time.Time
}

// identityCache holds authenticated users (after authorization, before role
// mapping, which depends on the caller) for one config generation.
type identityCache struct {
	max time.Duration
	now func() time.Time

	mu      sync.RWMutex
	entries map[cacheKey]cacheEntry
	sweep   time.Time
}

func newIdentityCache(max time.Duration) *identityCache {
	return &identityCache{max: max, now: time.Now, entries: map[cacheKey]cacheEntry{}}
}

func (c *identityCache) get(k cacheKey) (cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) {
		return cacheEntry{}, false
	}
	return e, true
}

// put stores e for ttl, capped by the cache's maximum. A zero ttl stores nothing.
func (c *identityCache) put(k cacheKey, e cacheEntry, ttl time.Duration) {
	ttl = min(ttl, c.max)
	if ttl <= 0 {
		return
	}
	now := c.now()
	e.expires = now.Add(ttl)
	c.mu.Lock()
	defer c.mu.Unlock()
	_, replacing := c.entries[k]
	if now.After(c.sweep) { // drop expired entries at most once a minute
		c.sweep = now.Add(time.Minute)
		for key, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, key)
			}
		}
	}
	if !replacing && len(c.entries) >= maxCacheEntries {
		for key := range c.entries { // full: evict one entry (the map's order is random)
			delete(c.entries, key)
			break
		}
	}
	c.entries[k] = e
}

func (c *identityCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
