package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/sdk"
)

// Options configures a Daemon.
type Options struct {
	// Dir is the config directory.
	Dir string
	// Listen overrides realmd.yml's listen address when set.
	Listen string
	// Builtins are the plugins compiled into Executable, served by
	// `Executable plugin NAME`.
	Builtins   []sdk.Plugin
	Executable string
	Logger     hclog.Logger
	// Watch reloads the config when its files change (see Daemon.Watch).
	Watch bool
}

// Daemon is a running realmd: the current generation, the plugin pool and
// the front door.
type Daemon struct {
	opts   Options
	logger hclog.Logger
	pool   *instancePool

	reloadMu sync.Mutex // one reload at a time
	stopped  bool       // set by shutdown, under reloadMu
	current  atomic.Pointer[Generation]
	nextID   atomic.Uint64
	lastErr  atomic.Pointer[ReloadError]
	// draining are the generations a reload replaced that are still
	// finishing their requests.
	draining drainingGens
	metrics  *metrics
	// answering counts the HTTP requests whose handler runs: what a
	// shutdown drains, and what it cut off if it ran out of time.
	answering atomic.Int64
	// conns tracks the front door's connections by state, for what a
	// shutdown reports it closed.
	conns connStates
	// served is what the listener was started with: settings a reload
	// cannot change without a restart.
	served        atomic.Pointer[listenSettings]
	restartNeeded atomic.Pointer[[]string]
	// quietUnchanged is set, under reloadMu, once a file event's reload
	// found the config unchanged and said so; further ones say it at debug
	// until a reload applies or refuses a config. A file touched without
	// a change every few milliseconds reloads about once a second, and
	// must not log at info that often.
	quietUnchanged bool
}

// reloadTrigger is what asked for a reload; it is logged with the outcome.
type reloadTrigger string

const (
	triggerFileEvent reloadTrigger = "file change"
	triggerSignal    reloadTrigger = "SIGHUP"
)

// listenSettings are the realmd.yml settings the listener is built from.
type listenSettings struct {
	addr           string
	maxHeaderBytes int
}

// New returns a daemon; Run starts it.
func New(opts Options) *Daemon {
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	d := &Daemon{opts: opts, logger: opts.Logger, pool: newInstancePool()}
	d.metrics = newMetrics(d)
	return d
}

// load reads and validates the config directory. unchanged reports a config whose content is prev's: its warnings were logged when
// prev was loaded, so they are not logged again (a file touched in a loop
// would log them once a second). prev may be nil. quietRepeats leaves out
// the warnings of a config refused again with the same problems, for a
// file event; an operator's SIGHUP always gets them.
func (d *Daemon) load(prev *config.Settings, quietRepeats bool) (s *config.Settings, unchanged bool, err error) {
	s, problems := config.Load(d.opts.Dir)
	if err := problems.Err(); err != nil {
		// A refused start returns its warnings with its problems, and
		// serve prints them all; logged here too, they showed twice.
		if prev != nil && (!quietRepeats || !d.refusedAgain(newReloadError(err))) {
			d.logWarnings(problems)
		}
		return nil, false, err
	}
	if prev != nil && s.Hash == prev.Hash {
		return s, true, nil
	}
	d.logWarnings(problems)
	return s, false, nil
}

func (d *Daemon) logWarnings(problems config.Problems) {
	for _, p := range problems {
		if p.Warning {
			d.logger.Warn("config warning", "problem", p.String())
		}
	}
}

// catalog resolves s's realm types to plugins.
func (d *Daemon) catalog(s *config.Settings) *Catalog {
	return NewCatalog(d.opts.Builtins, d.opts.Executable, s.Realmd)
}

// build makes a generation from settings, reusing running instances.
func (d *Daemon) build(ctx context.Context, s *config.Settings) (*Generation, error) {
	g, err := buildGeneration(ctx, d.nextID.Add(1), s, d.catalog(s), d.pool, d.logger)
	if err != nil {
		return nil, err
	}
	if g.xff, err = newXFFResolver(s.Security.XFF); err != nil {
		g.close()
		return nil, config.Problems{{File: config.ConfigFile, Key: "config.dynamic.http.xff.internalProxies", Message: err.Error()}}
	}
	return g, nil
}

// Run loads the config, starts every plugin, serves until ctx ends, then
// drains requests and stops every plugin.
func (d *Daemon) Run(ctx context.Context) error {
	dns := d.logger.Named("dns")
	hostLookups.setLogger(dns)
	addrLookups.setLogger(dns)
	// A reload (SIGHUP) during startup waits for the first generation, then
	// compares against it.
	d.reloadMu.Lock()
	s, _, err := d.load(nil, false)
	if err != nil {
		d.reloadMu.Unlock()
		return err
	}
	g, err := d.build(ctx, s)
	if err != nil {
		d.reloadMu.Unlock()
		return err
	}
	d.current.Store(g)
	d.reloadMu.Unlock()
	d.logger.Info("config loaded", "generation", g.ID, "dir", s.Dir, "domains", len(s.Security.Authc), "plugins", len(g.instances))

	addr := firstNonEmpty(d.opts.Listen, s.Realmd.Listen)
	d.served.Store(&listenSettings{addr: addr, maxHeaderBytes: s.Realmd.MaxHeaderBytes})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		d.shutdown()
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	fd := &frontDoor{d: d, logger: d.logger.Named("http")}
	srv := newHTTPServer(d.counted(fd.routes()), s.Realmd.MaxHeaderBytes, d.logger.Named("http"))
	tracked := d.conns.install(srv, ln)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(tracked) }()
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		if !d.opts.Watch {
			return
		}
		if err := d.Watch(watchCtx); err != nil {
			d.logger.Error("file watcher stopped; edits will not reload until SIGHUP", "error", err)
		}
	}()
	d.logger.Info("serving", "address", ln.Addr().String())

	select {
	case err = <-errc:
	case <-ctx.Done():
		bound := d.drainBound()
		d.logger.Info("shutting down: draining requests", "reason", context.Cause(ctx), "requests", d.answering.Load(), "bound", bound)
		err = d.drain(srv, bound)
	}
	stopWatch()
	<-watchDone // no reload may start a generation after shutdown
	d.shutdown()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// drainBound is how long a shutdown waits for the requests in flight: the
// longest request_timeout of the current generation and of every one a
// reload replaced that still finishes its requests, plus drainMargin. A
// reload that lowers request_timeout must not cut off requests the
// generation they run on still lets run (found by review).
func (d *Daemon) drainBound() time.Duration {
	var longest time.Duration
	if g := d.current.Load(); g != nil {
		longest = g.Settings.Realmd.RequestTimeout
	}
	return max(longest, d.draining.longestTimeout()) + drainMargin
}

// drainMargin is how long past request_timeout a shutdown waits for the
// requests in flight: request_timeout bounds a request's trip through the
// pipeline, and the margin leaves time to write the answer.
const drainMargin = 5 * time.Second

// drain stops srv accepting requests and waits, at most bound, for those in
// flight to be answered. A drain that takes long but ends is a clean stop:
// with a hard-coded 10 s, a request_timeout of 30 s made realmd exit 1 after
// answering every request (found by review). When bound is reached, the
// connections left are closed; drain then returns an error only if requests
// were still being answered, as those were cut off. A connection whose
// request was answered but that was still busy (a client that did not read
// its answer, or did not send a body it declared) is closed with a
// warning. One on which no whole request had arrived is closed without a
// line: Shutdown itself closes such a connection once it is 5 s old
// (net/http's closeIdleConns, Go issue 22682), and every connection is
// older than the bound, request_timeout + 5 s, when it is reached, as the
// listener closed at the start; so a line for them could only fire for a
// request_timeout under about 1.5 s (found by review).
func (d *Daemon) drain(srv *http.Server, bound time.Duration) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	err := srv.Shutdown(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			d.logger.Info("requests drained", "took", time.Since(start).Round(time.Millisecond))
		}
		return err
	}
	cut := d.answering.Load() // the handlers still running: their answers are lost
	// A connection is active from a request's first bytes until it is idle
	// again; the requests cut off are each on an active one.
	answered := d.conns.count(http.StateActive) - int(cut)
	srv.Close()
	if answered > 0 {
		d.logger.Warn("shutdown: closed connections whose requests were answered, but whose clients had neither read the answer nor sent the body they declared", "connections", answered, "bound", bound)
	}
	if cut == 0 {
		return nil
	}
	d.logger.Error("shutdown: cut off requests still unanswered", "requests", cut, "bound", bound)
	return fmt.Errorf("shutdown cut off %d requests still unanswered after %v (request_timeout + %v)", cut, bound, drainMargin)
}

// counted counts h's running requests in d.answering.
func (d *Daemon) counted(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.answering.Add(1)
		defer d.answering.Add(-1)
		h.ServeHTTP(w, r)
	})
}

// shutdown closes the current generation and waits for old ones to drain.
func (d *Daemon) shutdown() {
	d.reloadMu.Lock()
	d.stopped = true
	d.reloadMu.Unlock()
	if g := d.current.Swap(nil); g != nil {
		g.close()
	}
	d.draining.wait()
}

// ReloadError is why the last reload was refused.
type ReloadError struct {
	File    string    `json:"file"`
	Line    int       `json:"line"`
	Key     string    `json:"key"`
	Message string    `json:"message"`
	At      time.Time `json:"at"`
	// Problems lists every problem, not only the first.
	Problems []string `json:"problems"`
	errors   int      // problems that are not warnings
}

// Reload loads the config directory again and, when its content changed,
// swaps in a new generation. On any failure the current generation keeps
// serving and the error is kept for /_realmd/status. changed is false when
// the content was the same. Reload is what the file watcher calls: an
// unchanged config is logged at info once, and then at debug until a
// reload applies or refuses a config (see ReloadForSignal).
func (d *Daemon) Reload(ctx context.Context) (changed bool, err error) {
	return d.reload(ctx, triggerFileEvent)
}

// ReloadForSignal is Reload for SIGHUP: an operator asked for it, so an
// unchanged config is always logged at info.
func (d *Daemon) ReloadForSignal(ctx context.Context) (changed bool, err error) {
	return d.reload(ctx, triggerSignal)
}

func (d *Daemon) reload(ctx context.Context, trigger reloadTrigger) (changed bool, err error) {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if d.stopped {
		return false, errors.New("realmd is shutting down")
	}
	old := d.current.Load()
	if old == nil { // Run builds the first generation; one built here would never be closed
		d.logger.Warn("reload ignored: realmd has not started serving")
		return false, errors.New("realmd has not started serving")
	}
	s, unchanged, err := d.load(old.Settings, trigger == triggerFileEvent)
	unchanged = err == nil && unchanged && !old.filesChanged()
	if unchanged {
		// The same bytes may no longer start: a plugin that lost its x
		// bit, a pinned one replaced by a symlink to the same content.
		// Resolve every type again, as a build and `realmd check` would,
		// so that such a config is refused now, not found out when a
		// plugin dies and cannot be restarted (found by review). Resolving
		// reads no executable: filesChanged has just summed them.
		if _, problems := resolveComponents(s, d.catalog(s)); len(problems) > 0 {
			unchanged, err = false, problems
		}
	}
	if unchanged {
		d.metrics.reloaded("unchanged")
		cleared := d.clearLastError(old.ID)
		if trigger == triggerFileEvent && d.quietUnchanged && !cleared {
			d.logger.Debug("reload: config unchanged", "generation", old.ID, "trigger", string(trigger))
			return false, nil
		}
		d.quietUnchanged = trigger == triggerFileEvent
		d.logger.Info("reload: config unchanged", "generation", old.ID, "trigger", string(trigger))
		return false, nil
	}
	var g *Generation
	if err == nil {
		g, err = d.build(ctx, s)
	}
	d.quietUnchanged = false
	if err != nil && ctx.Err() != nil {
		// A shutdown (or the watcher stopping) cancelled the reload while
		// it started plugins: no verdict on the config, so no refusal.
		d.logger.Info("reload cancelled; the previous config keeps serving", "reason", context.Cause(ctx), "trigger", string(trigger))
		return false, err
	}
	if err != nil {
		re := newReloadError(err)
		again := d.refusedAgain(re)
		d.lastErr.Store(re)
		d.metrics.reloaded("refused")
		if again && trigger == triggerFileEvent { // a file touched in a loop: say it once
			d.logger.Debug("reload refused again, with the same problems; the previous config keeps serving", "error", err)
			return false, err
		}
		d.logger.Error("reload refused; the previous config keeps serving", "error", err)
		return false, err
	}
	d.current.Store(g)
	d.clearLastError(g.ID)
	d.metrics.reloaded("applied")
	d.noteRestartNeeded(s)
	// hash covers the config files only: name what changed, so that a
	// reload for a CA or tokens file does not look like one for nothing.
	configFiles, files := g.changedSince(old)
	d.logger.Info("reloaded", "generation", g.ID, "hash", s.Hash, "changed_config_files", configFiles, "changed_files", files)
	d.draining.close(old) // in-flight requests finish on the old generation
	return true, nil
}

// drainingGens are the generations a reload replaced, each closing (its
// requests finishing) in a goroutine of its own, until it has closed.
type drainingGens struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	gens map[*Generation]bool
}

// close closes g in the background, as one of d's until it has closed.
func (d *drainingGens) close(g *Generation) {
	d.wg.Add(1)
	d.mu.Lock()
	if d.gens == nil {
		d.gens = map[*Generation]bool{}
	}
	d.gens[g] = true
	d.mu.Unlock()
	go func() {
		defer d.wg.Done()
		g.close()
		d.mu.Lock()
		delete(d.gens, g)
		d.mu.Unlock()
	}()
}

// longestTimeout is the longest request_timeout of d's generations: a
// shutdown's drain bound covers theirs too.
func (d *drainingGens) longestTimeout() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	var longest time.Duration
	for g := range d.gens {
		longest = max(longest, g.Settings.Realmd.RequestTimeout)
	}
	return longest
}

// wait returns once every generation of d has closed.
func (d *drainingGens) wait() { d.wg.Wait() }

// noteRestartNeeded warns when a reload changed a setting that only a
// restart applies (the listener is built once), and keeps the list for
// /_realmd/status, so that an edit that did not take effect is never silent.
func (d *Daemon) noteRestartNeeded(s *config.Settings) {
	served := d.served.Load()
	if served == nil {
		return
	}
	pending := []string{} // "restart_needed": [], never null, in /_realmd/status
	if addr := firstNonEmpty(d.opts.Listen, s.Realmd.Listen); addr != served.addr {
		pending = append(pending, fmt.Sprintf("listen is %s in %s, but realmd keeps serving on %s until it restarts", addr, config.RealmdFile, served.addr))
	}
	if s.Realmd.MaxHeaderBytes != served.maxHeaderBytes {
		pending = append(pending, fmt.Sprintf("max_header_bytes is %d in %s, but realmd keeps %d until it restarts", s.Realmd.MaxHeaderBytes, config.RealmdFile, served.maxHeaderBytes))
	}
	for _, p := range pending {
		d.logger.Warn("setting needs a restart", "setting", p)
	}
	d.restartNeeded.Store(&pending)
}

// clearLastError forgets the last refused reload, if any, and logs that
// it did, with what it was: /_realmd/status stops showing it, and the log
// should say why. It reports whether there was one. reloadMu is held.
func (d *Daemon) clearLastError(generation uint64) bool {
	prev := d.lastErr.Swap(nil)
	if prev == nil {
		return false
	}
	d.logger.Info("reload: last reload error cleared", "generation", generation, "was", prev.summary())
	return true
}

// refusedAgain reports whether re has the same problems as the last
// refused reload, which is still the last word (no reload since applied or
// found the served config): its error and warnings were logged then.
func (d *Daemon) refusedAgain(re *ReloadError) bool {
	prev := d.lastErr.Load()
	return prev != nil && prev.Message == re.Message && slices.Equal(prev.Problems, re.Problems)
}

// summary is the refused reload's first error, as file:line: key:
// message, and how many more errors there were.
func (e *ReloadError) summary() string {
	if e.File == "" {
		return e.Message
	}
	p := config.Problem{File: e.File, Line: e.Line, Key: e.Key, Message: e.Message}
	s := p.String()
	if n := e.errors - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more errors)", n)
	}
	return s
}

func newReloadError(err error) *ReloadError {
	re := &ReloadError{Message: err.Error(), At: time.Now()}
	var ps config.Problems
	if errors.As(err, &ps) && len(ps) > 0 {
		first := ps[0]
		for _, p := range ps {
			if !p.Warning {
				first = p
				break
			}
		}
		re.File, re.Line, re.Key, re.Message = first.File, first.Line, first.Key, first.Message
		for _, p := range ps {
			re.Problems = append(re.Problems, p.String())
			if !p.Warning {
				re.errors++
			}
		}
		return re
	}
	// An error with no position still lists itself: problems promises
	// every one, and is never null for a refused reload.
	re.Problems, re.errors = []string{re.Message}, 1
	return re
}

// StatusReport is GET /_realmd/status.
type StatusReport struct {
	Generation uint64 `json:"generation"`
	// Hash is the SHA-256 over the config files only (Settings.Hash): a
	// reload for a depended-on file alone keeps it.
	Hash      string       `json:"hash"`
	LoadedAt  time.Time    `json:"loaded_at"`
	LastError *ReloadError `json:"last_error"`
	// CacheEntries are the identities in the serving generation's cache.
	CacheEntries int `json:"identity_cache_entries"`
	// CacheBytes approximates the memory those identities hold.
	CacheBytes int `json:"identity_cache_bytes"`
	// RestartNeeded lists reloaded settings that take effect only when
	// realmd restarts (listen, max_header_bytes).
	RestartNeeded []string `json:"restart_needed"`
	Plugins       []Status `json:"plugins"`
}

// Status reports the current generation and its plugins.
func (d *Daemon) Status() StatusReport {
	rep := StatusReport{LastError: d.lastErr.Load(), Plugins: []Status{}, RestartNeeded: []string{}}
	if p := d.restartNeeded.Load(); p != nil {
		rep.RestartNeeded = *p
	}
	if g := d.current.Load(); g != nil {
		rep.Generation, rep.Hash, rep.LoadedAt = g.ID, g.Settings.Hash, g.LoadedAt
		rep.CacheEntries, rep.CacheBytes = g.Pipeline.CacheLen(), g.Pipeline.CacheBytes()
		for _, in := range g.instances {
			rep.Plugins = append(rep.Plugins, in.Status())
		}
	}
	return rep
}
