package pipeline

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
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

// The identity cache's bounds. maxCacheEntries is Elasticsearch's realm
// cache size. A flood of distinct credentials cannot grow the cache beyond
// them, nor can one credential: text a realm ignores ("Basic <b64> junk",
// "junk Bearer <token>") changes the key but not the credential, so each
// variation is a miss, a full verification and an entry with its own copy
// of the user. One identity (domain and user name) holds at most
// maxKeysPerIdentity entries, so its variations take 64 slots at most; and
// the entries' approximate bytes (entrySize) stay under maxCacheBytes, so
// large users (a token with many groups and claims is about 20 KiB) cannot
// fill memory with 100,000 of them (found by review: one valid credential
// filled the cache to about 2 GiB, and random eviction then pushed out
// other users, who paid their password hash again). An identity at its
// cap gives up a random one of its keys, not its oldest: one JWT subject
// with more live tokens than the cap used in turn (pods sharing a service
// account, one user's devices) then still mostly hits, where evicting the
// oldest made every request miss (found by review: 17 tokens, 85
// requests, no hit under a cap of 16). 64 keys of 20 KiB users are about
// 1.3 MiB by entrySize, well inside maxCacheBytes.
const (
	maxCacheEntries    = 100_000
	maxCacheBytes      = 256 << 20
	maxKeysPerIdentity = 64
)

// entrySize's fixed parts: stringOverhead is a string's header in the
// slice or map that holds it, mapSlotOverhead an attribute's share of its
// map, entryOverhead the entry, its key in the map and in its identity's
// list, and the user's slice and map headers.
const (
	stringOverhead  = 16
	mapSlotOverhead = 16
	entryOverhead   = 512
)

// entrySize approximates the memory e holds: the bytes of every string in
// it (the user's name, login name, roles and attribute names and values,
// the credentials' user name and the mapped roles), a header for each, and
// a fixed part for the entry and its key. Allocator rounding and heap
// fragmentation come on top: a cache full of users with 150 groups and 40
// claims (16.5 KB each by this count) held about 1.65 times the count.
func entrySize(e *cacheEntry) int {
	n := entryOverhead
	add := func(s string) { n += stringOverhead + len(s) }
	add(e.user.Name)
	add(e.user.LoginName)
	add(e.username)
	for _, list := range [...][]string{e.user.BackendRoles, e.user.SecurityRoles, e.roles} {
		for _, r := range list {
			add(r)
		}
	}
	for k, v := range e.user.Attributes {
		add(k)
		add(v)
		n += mapSlotOverhead
	}
	return n
}

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
	size    int // entrySize, set by put
}

// identity is whom an entry authenticates: a domain's user. Its entries
// count against maxKeysPerIdentity.
type identity struct {
	domain *Domain // nil for an entry of no domain
	name   string
}

func identityOf(e *cacheEntry) identity { return identity{e.domain, e.user.Name} }

// identityCache holds authenticated users (after authorization, before role
// mapping, which depends on the caller) for one config generation. A hit
// takes the read lock and copies the entry; a put pays for the bounds.
type identityCache struct {
	max time.Duration
	now func() time.Time
	// The bounds: maxCacheEntries, maxCacheBytes and maxKeysPerIdentity
	// (fields so that tests can shrink them).
	maxEntries, maxBytes, maxKeys int

	// randN picks the key an identity at maxKeys gives up (rand.IntN; a
	// seeded source in tests); c.mu is held for writing when it is called.
	randN func(n int) int

	mu      sync.RWMutex
	entries map[cacheKey]cacheEntry
	// keys lists each identity's keys, in no order that matters.
	keys  map[identity][]cacheKey
	bytes int // the sum of the entries' sizes
	sweep time.Time
}

func newIdentityCache(max time.Duration) *identityCache {
	return &identityCache{max: max, now: time.Now,
		maxEntries: maxCacheEntries, maxBytes: maxCacheBytes, maxKeys: maxKeysPerIdentity, randN: rand.IntN,
		entries: map[cacheKey]cacheEntry{}, keys: map[identity][]cacheKey{}}
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

// put stores e for ttl from the time from, capped by the cache's maximum.
// from is when the request's trip through the stages began (c.now() then),
// not the time of the put: a realm's TTL is the time left when it answered
// (a JWT's until exp), and authorization took time after that, so counting
// from the put kept an identity past its token's exp (found by review).
// A zero ttl stores nothing, nor does an entry that has already ended or
// is larger than maxBytes. To make room it evicts a random key of e's
// identity when that holds maxKeys (a hit keeps no order, so it stays a
// read-locked copy), then random entries while the cache is over
// maxEntries or maxBytes.
func (c *identityCache) put(k cacheKey, e cacheEntry, from time.Time, ttl time.Duration) {
	ttl = min(ttl, c.max)
	if ttl <= 0 {
		return
	}
	now := c.now()
	e.expires = from.Add(ttl)
	if !now.Before(e.expires) {
		return
	}
	e.size = entrySize(&e)
	id := identityOf(&e)
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.sweep) { // drop expired entries at most once a minute
		c.sweep = now.Add(time.Minute)
		for key, old := range c.entries {
			if !now.Before(old.expires) {
				c.remove(key)
			}
		}
	}
	if _, ok := c.entries[k]; ok { // a new answer for the key replaces the old
		c.remove(k)
	}
	if e.size > c.maxBytes {
		return
	}
	if keys := c.keys[id]; len(keys) >= c.maxKeys {
		c.remove(keys[c.randN(len(keys))])
	}
	for len(c.entries) > 0 && (len(c.entries) >= c.maxEntries || c.bytes+e.size > c.maxBytes) {
		for key := range c.entries { // full: evict one entry (the map's order is random)
			c.remove(key)
			break
		}
	}
	c.entries[k] = e
	c.keys[id] = append(c.keys[id], k)
	c.bytes += e.size
}

// remove deletes k's entry, which must exist, and its bookkeeping; c.mu
// is held for writing.
func (c *identityCache) remove(k cacheKey) {
	e := c.entries[k]
	delete(c.entries, k)
	c.bytes -= e.size
	id := identityOf(&e)
	keys := c.keys[id]
	if i := slices.Index(keys, k); i >= 0 {
		keys = slices.Delete(keys, i, i+1)
	}
	if len(keys) == 0 {
		delete(c.keys, id)
	} else {
		c.keys[id] = keys
	}
}

func (c *identityCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// size is the entries' approximate bytes (see entrySize).
func (c *identityCache) size() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.bytes
}
