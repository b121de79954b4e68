package pipeline

import (
	"context"
	"fmt"
	"net/textproto"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/realmd/realmd/sdk"
)

// DefaultQueueSize bounds each stage when Config.QueueSize is 0.
const DefaultQueueSize = 1024

// Pipeline authenticates requests for one config generation. Create it with
// New, stop it with Close; it is safe for concurrent use in between.
type Pipeline struct {
	cfg    Config
	log    Logger
	inputs keyInputs
	cache  *identityCache
	flight singleflight.Group
	// deadlines bound each request's trip through the stages (Timeout).
	deadlines deadlines
	limits    *limits
	// warnings limit the warnings about each domain's steps and each
	// authorization backend (chain.go, outage.go); answerWarnings those
	// about each domain's answers that cannot be sent as they are, the
	// last for answers of no domain.
	warnings       [][2]stepWarnings
	authzWarnings  []stepWarnings
	answerWarnings []stepWarnings
	now            func() time.Time

	stages []*stage // one per domain, in order
	authz  *stage

	ctx    context.Context // cancelled by Close after the drain
	cancel context.CancelFunc
	actors sync.WaitGroup

	// mu orders every inflight.Add before Close's Wait: a WaitGroup must
	// not go up from zero while someone waits on it.
	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup
}

// New builds a pipeline and starts its stage goroutines.
func New(cfg Config) *Pipeline {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Mapper == nil {
		cfg.Mapper, _ = NewRoleMapper(MapperConfig{})
	}
	p := &Pipeline{cfg: cfg, log: cfg.Logger, inputs: unionInputs(cfg.Domains), cache: newIdentityCache(cfg.CacheTTL)}
	if p.log == nil {
		p.log = nopLogger{}
	}
	p.inputs.anonymous = cfg.Anonymous
	p.warnings, p.now = make([][2]stepWarnings, len(cfg.Domains)), time.Now
	p.authzWarnings = make([]stepWarnings, len(cfg.Authz))
	p.answerWarnings = make([]stepWarnings, len(cfg.Domains)+1)
	p.limits = newLimits(cfg.Limits, p.log)
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.deadlines.base, p.deadlines.start = p.ctx, time.Now()
	for i := range cfg.Domains {
		p.stages = append(p.stages, p.startStage(func(j *job) { p.authenticate(j, i) }))
	}
	p.authz = p.startStage(p.authorize)
	return p
}

// Close stops accepting requests (later calls answer Unavailable), waits for
// those in flight to get their answer, then cancels what is left (calls
// abandoned by their callers) and waits for every goroutine it started.
func (p *Pipeline) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.inflight.Wait()
	p.cancel()
	p.deadlines.stop()
	p.actors.Wait()
}

// CacheLen is the number of identities in the cache.
func (p *Pipeline) CacheLen() int { return p.cache.len() }

// CacheBytes is the approximate memory the cache's identities hold.
func (p *Pipeline) CacheBytes() int { return p.cache.size() }

// Authenticate answers who r is. caller is used for `hosts` role mappings.
// It returns when the answer is known or ctx ends.
func (p *Pipeline) Authenticate(ctx context.Context, r *sdk.Request, caller Caller) Result {
	if !p.enter() {
		return Result{Outcome: Unavailable, Closed: true}
	}
	defer p.inflight.Done()
	ip := caller.IP
	if ip == "" {
		ip = addressIP(r.SocketAddress)
	}
	if p.limits.addressBlocked(ctx, ip) {
		if p.debug() {
			p.log.Debug("client address blocked", "address", ip)
		}
		return Result{Outcome: Challenged, Challenge: finalChallenge, Blocked: true}
	}
	res := p.answer(ctx, r, caller)
	if res.Outcome == Challenged {
		p.limits.addressFailed(ip)
	}
	return res
}

// answer is Authenticate for a client that is not blocked.
func (p *Pipeline) answer(ctx context.Context, r *sdk.Request, caller Caller) Result {
	var key cacheKey
	cacheable := false
	if p.cfg.CacheTTL > 0 {
		key, cacheable = p.inputs.key(r)
	}
	if cacheable {
		// A user name blocked since it was cached must not log in from
		// the cache: the chain runs and its domain skips the name.
		if e, ok := p.cache.get(key); ok && (e.domain == nil || !p.limits.userBlocked(e.domain, e.username)) {
			return p.mapped(ctx, e, caller, true)
		}
	}
	var res Result
	var entry cacheEntry
	if cacheable {
		// Identical credentials in flight together are checked once, on a
		// context that outlives any one caller but keeps its deadline and
		// ends with Close. Each caller still leaves when its own ctx ends.
		ch := p.flight.DoChan(string(key[:]), func() (any, error) {
			fctx, cancel := p.detach(ctx)
			defer cancel()
			from := p.cache.now() // the realms' TTLs count from their answers, after this
			res, entry, ttl := p.run(fctx, r)
			if res.Outcome == Authenticated && len(res.Unavailable) == 0 {
				if !p.cfg.Mapper.UsesCaller() { // map once, not on every hit
					entry.roles = p.cfg.Mapper.Map(fctx, &entry.user, Caller{})
				}
				p.cache.put(key, entry, from, ttl)
			}
			return flightResult{res, entry}, nil
		})
		select {
		case v := <-ch:
			fr := v.Val.(flightResult)
			res, entry = fr.res, fr.entry
		case <-ctx.Done():
			return timedOut()
		}
	} else {
		res, entry, _ = p.run(ctx, r)
	}
	if res.Outcome != Authenticated {
		return res
	}
	out := p.mapped(ctx, entry, caller, false)
	out.Unavailable = res.Unavailable
	return out
}

// enter admits a request, unless Close has begun.
func (p *Pipeline) enter() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return false
	}
	p.inflight.Add(1)
	return true
}

// detach returns a context with ctx's values, neither cancelled with ctx
// nor bound by its deadline, that Close cancels. A check that identical
// requests share runs on it: request_timeout bounds it, and each caller
// still leaves when its own ctx ends. With the first caller's deadline, a
// caller in a hurry would have timed out every other caller with it
// (found by review).
func (p *Pipeline) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	d, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(p.ctx, cancel)
	return d, func() { stop(); cancel() }
}

// timedOut is the answer to a caller whose ctx ended first.
func timedOut() Result {
	return Result{Outcome: Unavailable, Unavailable: []string{"timeout"}}
}

type flightResult struct {
	res   Result
	entry cacheEntry
}

// mapped finishes an authenticated answer with role mapping.
func (p *Pipeline) mapped(ctx context.Context, e cacheEntry, caller Caller, cached bool) Result {
	u, d := e.user, e.domain
	roles := e.roles
	if roles == nil {
		roles = p.cfg.Mapper.Map(ctx, &u, caller)
	}
	id := &Identity{User: u, Roles: roles}
	if d != nil {
		id.Domain, id.Authenticator = d.Name, d.AuthenticatorType
	}
	return Result{Outcome: Authenticated, Identity: id, Cached: cached}
}

// run sends r through the stages and waits for the answer.
func (p *Pipeline) run(ctx context.Context, r *sdk.Request) (Result, cacheEntry, time.Duration) {
	jctx := ctx
	if p.cfg.Timeout > 0 {
		jctx = p.deadlines.after(p.cfg.Timeout)
	}
	j := &job{
		ctx:       jctx,
		req:       r,
		anonLogin: p.cfg.Anonymous && isAnonymousLogin(r),
		done:      make(chan struct{}),
	}
	if len(p.stages) == 0 {
		p.conclude(j)
	} else {
		select {
		case p.stages[0].in <- j:
		default:
			return Result{Outcome: Overloaded}, cacheEntry{}, 0
		}
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return timedOut(), cacheEntry{}, 0
	case <-jctx.Done():
		return timedOut(), cacheEntry{}, 0
	}
	ttl := j.ttl
	if j.skippedBlocked || j.failed {
		// The answer depends on a block that will end, or on a domain's
		// failure, not only on the credentials: once the block ends or the
		// domain works again, the skipped domain answers again (found by
		// review: a later domain's identity outlived the block, and the
		// failure).
		ttl = 0
	}
	user, dropped := assembled(j.user)
	if len(dropped) > 0 {
		w, name := &p.answerWarnings[len(p.cfg.Domains)], ""
		if i := p.domainIndex(j.domain); i >= 0 {
			w, name = &p.answerWarnings[i], j.domain.Name
		}
		p.warnLimited(w, droppedRoles,
			"roles that cannot be sent in a header as they are (empty, a control character, invalid UTF-8, or a space at an end) were dropped",
			"domain", name, "user", LogText(user.Name), "roles", fmt.Sprintf("%q", dropped))
	}
	return j.result, cacheEntry{user: user, domain: j.domain, username: j.username}, ttl
}

// domainIndex is d's index in the config's domains, or -1 when d is
// none of them (nil: the anonymous user).
func (p *Pipeline) domainIndex(d *Domain) int {
	for i := range p.cfg.Domains {
		if &p.cfg.Domains[i] == d {
			return i
		}
	}
	return -1
}

// isAnonymousLogin follows OpenSearch: auth_type=anonymous when the
// parameter is present (its last value: RestUtils keeps the last of a
// repeated parameter), otherwise no Authorization header at all.
func isAnonymousLogin(r *sdk.Request) bool {
	if v, ok := r.Query["auth_type"]; ok && len(v) > 0 {
		return v[len(v)-1] == "anonymous"
	}
	_, ok := r.Header["Authorization"]
	return !ok
}

// job is one request's trip through the stages. Exactly one stage works on
// it at a time, so its fields need no lock; done is closed once.
type job struct {
	ctx       context.Context
	req       *sdk.Request
	anonLogin bool

	firstChallenging *Domain
	sawCredentials   bool
	skippedBlocked   bool // a domain skipped a blocked user name
	failed           bool // a domain failed (not unavailable, not malformed credentials)
	unavailable      []string

	user     sdk.User
	domain   *Domain
	username string // the credentials' user name, which domain accepted
	ttl      time.Duration

	result Result
	done   chan struct{}
}

func (j *job) finish(r Result) {
	r.Unavailable = j.unavailable
	j.result = r
	close(j.done)
}

// maxStageWorkers bounds the goroutines working on one stage's jobs.
const maxStageWorkers = 128

// stage is an actor: it owns a bounded queue and a fixed set of long-lived
// workers (QueueSize of them, at most maxStageWorkers), so that many jobs
// are at work at once and one slow backend call never holds up the others.
// Long-lived workers keep their grown stacks: a goroutine per job would
// grow a fresh stack through the gRPC call path every time. A busy stage
// holds its workers' jobs and cap(in) waiting; run answers Overloaded
// beyond that. Close waits for the workers.
type stage struct {
	in chan *job
}

func (p *Pipeline) startStage(work func(*job)) *stage {
	s := &stage{in: make(chan *job, p.cfg.QueueSize)}
	for range min(p.cfg.QueueSize, maxStageWorkers) {
		p.actors.Add(1)
		go func() {
			defer p.actors.Done()
			for {
				select {
				case j := <-s.in:
					if j.ctx.Err() != nil { // its caller has left: spare the backends
						j.finish(timedOut())
						continue
					}
					work(j)
				case <-p.ctx.Done():
					return
				}
			}
		}()
	}
	return s
}

// send hands j to stage s, waiting while s's queue is full.
func (p *Pipeline) send(s *stage, j *job) {
	select {
	case s.in <- j:
	case <-j.ctx.Done():
		j.finish(Result{Outcome: Unavailable})
	}
}

func canonicalHeaders(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = textproto.CanonicalMIMEHeaderKey(n)
	}
	return out
}

type nopLogger struct{}

func (nopLogger) IsDebug() bool        { return false }
func (nopLogger) Debug(string, ...any) {}
func (nopLogger) Info(string, ...any)  {}
func (nopLogger) Warn(string, ...any)  {}
