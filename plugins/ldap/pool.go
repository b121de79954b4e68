package ldap

import (
	"context"
	"fmt"
	"sync"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// staleAfter: a pooled connection idle for longer is checked before use
// even when validation is off, since firewalls and servers drop idle
// connections silently.
const staleAfter = 30 * time.Second

var errPoolClosed = fmt.Errorf("%w: ldap connection pool closed", sdk.ErrUnavailable)

// pool keeps open connections of one identity for reuse. With pool.enabled
// false every get opens a connection and every put closes it.
//
// In blocking mode (pool.type: blocking) at most MaxSize connections exist
// and get waits for one; otherwise (soft limit, OpenSearch's default) get
// opens an extra connection that put closes.
type pool struct {
	cfg    PoolConfig
	open   func(context.Context) (*conn, error)
	check  func(context.Context, *conn) error
	logger hclog.Logger

	slots chan struct{} // blocking mode: one per checked-out connection

	mu     sync.Mutex
	idle   []*conn // most recently used last
	size   int     // pooled connections, idle or checked out
	closed bool

	stop chan struct{}
	wg   sync.WaitGroup
}

func newPool(cfg PoolConfig, open func(context.Context) (*conn, error), check func(context.Context, *conn) error, logger hclog.Logger) *pool {
	if cfg.Enabled { // only an enabled pool runs tickers
		cfg.PruningPeriod = tickerPeriod(cfg.PruningPeriod, DefaultPruningPeriod, "pruning", logger)
		if v := cfg.Validation; v.Enabled && v.Periodically {
			cfg.Validation.Period = tickerPeriod(v.Period, DefaultValidationPeriod, "validation", logger)
		}
	}
	p := &pool{cfg: cfg, open: open, check: check, logger: logger, stop: make(chan struct{})}
	if cfg.Enabled && cfg.Blocking {
		p.slots = make(chan struct{}, cfg.MaxSize)
	}
	return p
}

// tickerPeriod returns d, or def when d is not positive. time.NewTicker
// panics on a non-positive interval, and a panic in the maintenance
// goroutine kills the plugin again after every restart. The config reader
// refuses such periods; this keeps any other path from crash-looping.
func tickerPeriod(d, def time.Duration, what string, logger hclog.Logger) time.Duration {
	if d > 0 {
		return d
	}
	logger.Warn("ldap pool period is not positive; using the default", "period", what, "got", d, "default", def)
	return def
}

// start fills the pool to MinSize and runs pruning and periodic validation
// until close. A directory that is down now is not an error: connections
// are opened on demand later.
func (p *pool) start() {
	if !p.cfg.Enabled {
		return
	}
	p.wg.Add(1)
	go p.maintain()
}

func (p *pool) maintain() {
	defer p.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-p.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	// Check out MinSize connections together, so each is a new one.
	var filled []*conn
	for range p.cfg.MinSize {
		c, err := p.get(ctx)
		if err != nil {
			p.logger.Warn("could not fill the ldap connection pool; connections will be opened on demand", "error", err)
			break
		}
		filled = append(filled, c)
	}
	for _, c := range filled {
		p.put(c, false)
	}
	prune := time.NewTicker(p.cfg.PruningPeriod)
	defer prune.Stop()
	var validate <-chan time.Time
	if v := p.cfg.Validation; v.Enabled && v.Periodically {
		t := time.NewTicker(v.Period)
		defer t.Stop()
		validate = t.C
	}
	for {
		select {
		case <-p.stop:
			return
		case <-prune.C:
			p.prune()
		case <-validate:
			p.validateIdle(ctx)
		}
	}
}

// get returns a healthy connection: an idle one, or a new one.
func (p *pool) get(ctx context.Context) (*conn, error) {
	if !p.cfg.Enabled {
		return p.open(ctx)
	}
	if p.slots != nil {
		select {
		case p.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting for a pooled ldap connection: %w", sdk.ErrUnavailable, ctx.Err())
		}
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			p.release()
			return nil, errPoolClosed
		}
		n := len(p.idle)
		if n == 0 {
			extra := p.slots == nil && p.size >= p.cfg.MaxSize
			if !extra {
				p.size++
			}
			p.mu.Unlock()
			c, err := p.open(ctx)
			if err != nil {
				if !extra {
					p.forget()
				}
				p.release()
				return nil, err
			}
			c.pooled = !extra
			return c, nil
		}
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		if p.healthy(ctx, c, p.cfg.Validation.Enabled && p.cfg.Validation.OnCheckout) {
			c.reused = true
			return c, nil
		}
		p.discard(c)
	}
}

// put returns a connection; a broken one is closed.
func (p *pool) put(c *conn, broken bool) {
	if !c.pooled {
		c.close()
		if p.cfg.Enabled {
			p.release()
		}
		return
	}
	defer p.release()
	if broken || c.l.IsClosing() {
		p.discard(c)
		return
	}
	if p.cfg.Validation.Enabled && p.cfg.Validation.OnCheckin && !p.healthy(context.Background(), c, true) {
		p.discard(c)
		return
	}
	c.idleSince = time.Now()
	c.reused = false
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.discard(c)
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

func (p *pool) release() {
	if p.slots != nil {
		<-p.slots
	}
}

func (p *pool) forget() {
	p.mu.Lock()
	p.size--
	p.mu.Unlock()
}

func (p *pool) discard(c *conn) {
	c.close()
	if c.pooled {
		p.forget()
	}
}

// healthy checks an idle connection: closed ones never are; with force, or
// after staleAfter idle, the validation operation must succeed.
func (p *pool) healthy(ctx context.Context, c *conn, force bool) bool {
	if c.doomed || c.l.IsClosing() {
		return false
	}
	if !force && time.Since(c.idleSince) < staleAfter {
		return true
	}
	if t := p.cfg.Validation.Timeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	if err := p.check(ctx, c); err != nil {
		p.logger.Debug("discarding an ldap connection that failed validation", "host", c.host.Raw, "error", err)
		return false
	}
	return true
}

// prune closes connections idle for longer than IdleTime, keeping MinSize.
func (p *pool) prune() {
	p.mu.Lock()
	var stale []*conn
	keep := p.idle[:0]
	for _, c := range p.idle { // oldest first
		if p.size-len(stale) > p.cfg.MinSize && time.Since(c.idleSince) > p.cfg.IdleTime {
			stale = append(stale, c)
			continue
		}
		keep = append(keep, c)
	}
	p.idle = keep
	p.mu.Unlock()
	for _, c := range stale {
		p.discard(c)
	}
}

// validateIdle checks every idle connection (validation.periodically).
func (p *pool) validateIdle(ctx context.Context) {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	var good []*conn
	for _, c := range idle {
		if p.healthy(ctx, c, true) {
			good = append(good, c)
		} else {
			p.discard(c)
		}
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		for _, c := range good {
			p.discard(c)
		}
		return
	}
	p.idle = append(good, p.idle...)
	p.mu.Unlock()
}

// close stops maintenance and closes the idle connections; connections
// checked out now are closed when they come back.
func (p *pool) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	close(p.stop)
	p.wg.Wait()
	for _, c := range idle {
		p.discard(c)
	}
}

// stats reports the pool's connections, for tests.
func (p *pool) stats() (size, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.size, len(p.idle)
}

// validation returns the check for pooled connections: validation.strategy
// search (a base search, the default) or compare.
func validation(v ValidationConfig, responseTimeout time.Duration) func(context.Context, *conn) error {
	return func(ctx context.Context, c *conn) error {
		return c.do(ctx, responseTimeout, func(l *goldap.Conn) error {
			if v.Compare {
				_, err := l.Compare(v.CompareDN, v.CompareAttribute, v.CompareValue)
				return err
			}
			_, err := l.Search(goldap.NewSearchRequest(v.SearchBaseDN, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
				1, 0, false, v.SearchFilter, []string{"1.1"}, nil))
			if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
				return nil // the server answered
			}
			return err
		})
	}
}
