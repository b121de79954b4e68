package pipeline

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// LogText is a value a client chose (a user name, a header value, a path),
// or one a realm derived from it, ready for a log field. hclog writes a
// value with a line break over several lines, which a collector that reads
// a record per line splits into records of its own (a user name can forge
// a "[WARN]" line); LogText's value is written on its line, quoted, with
// line breaks and other control characters escaped as Go escapes them
// (strconv.Quote). The JSON format writes it as the string it is. Every
// log field that carries a client's text goes through LogText.
func LogText(s string) hclog.Quote { return hclog.Quote(s) }

// warnEvery is the least time between two warnings about the same failure
// of one step of one domain, or of one authorization backend. A plugin that restarts (for up to 10 s between
// tries) under traffic made a line per request, thousands a second.
const warnEvery = 10 * time.Second

// The steps of a domain (and an authorization backend's one), and the ways
// one fails, that stepWarnings tell apart.
const (
	extracting = iota
	verifying
	authorizing
)

const (
	unavailable = iota
	failed
)

var (
	stepNames    = [...]string{extracting: "extracting credentials", verifying: "verifying credentials", authorizing: "retrieving roles"}
	failureLines = [...]string{unavailable: "domain unavailable", failed: "domain failed"}
)

// The answers realmd cannot send as they are, which a domain's
// answerWarnings tell apart: a realm that answers them does so for every
// request with the same credentials, and text a realm ignores makes every
// such request uncached (found by review: a line per request).
const (
	unsafeUserName = iota
	droppedRoles
)

// stepWarnings limits the warnings about one step of one domain (and a
// domain's answerWarnings, which no answer line follows). The first
// failure of each kind is logged at once; later ones within warnEvery of
// the last line are counted instead, and the next line reports the count
// ("suppressed"). That line is the next failure logged, or "domain answers
// again" on the step's first answer after them: at once after a failure
// line, so an outage makes two lines, its start and its end with how many
// requests it failed; after an answer line, once warnEvery has passed, so a
// domain that fails every other request still logs one line per warnEvery.
// Metrics count every request; this only limits the log.
type stepWarnings struct {
	// due is when the step's next answer has counted failures to report
	// (Unix nanoseconds; 0 while none are counted). An answer reads only
	// this until then.
	due atomic.Int64

	mu   sync.Mutex
	kind [2]struct {
		last       time.Time // the last line about this kind of failure
		lastAnswer bool      // that line was "domain answers again"
		suppressed int       // failures since that line, not logged
		pending    warning   // the last of them
	}
	// armed is set while a timer waits to log the counts that no request
	// reported (see reportIdle).
	armed bool
}

// warning is a line stepWarnings log or count. A step's failure keeps its
// parts and its error, which is formatted (LogText) only when the line is
// written: a failure that is only counted, as every request of an outage
// after the first is, formats nothing and allocates nothing (found by
// review: each formatted its error and built six fields). Other warnings
// keep the fields their caller built.
type warning struct {
	msg  string
	args []any // a warning that is no step's failure
	// A step's failure (err is not nil): key and name give the domain or
	// authorization backend.
	key, name string
	step      int
	err       error
}

// fields are w's key/value pairs as logged, with suppressed if not 0.
func (w *warning) fields(suppressed int) []any {
	args := slices.Clip(w.args) // never append into the caller's array
	if w.err != nil {
		args = append(make([]any, 0, 8), w.key, w.name, "step", stepNames[w.step], "error", LogText(w.err.Error()))
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	return args
}

// afterFunc arms the timer of reportIdle; a variable for tests.
var afterFunc = time.AfterFunc

// setDue recomputes due; w.mu is held.
func (w *stepWarnings) setDue() {
	var due int64
	for _, k := range w.kind {
		if k.suppressed == 0 {
			continue
		}
		at := k.last // at once after a failure line
		if k.lastAnswer {
			at = k.last.Add(warnEvery)
		}
		if due == 0 || at.UnixNano() < due {
			due = at.UnixNano()
		}
	}
	w.due.Store(due)
}

// warn logs domain i's failure at step, or counts it.
func (p *Pipeline) warn(i, step, kind int, err error) {
	p.warnStep(&p.warnings[i][step], "domain", p.cfg.Domains[i].Name, step, kind, err)
}

// warnAuthz logs authorization backend i's failure, or counts it: a
// directory that is down failed every request's role lookup, each with a
// line (found by review).
func (p *Pipeline) warnAuthz(i int, err error) {
	kind := failed
	if errors.Is(err, sdk.ErrUnavailable) {
		kind = unavailable
	}
	p.warnStep(&p.authzWarnings[i], "authz", p.cfg.Authz[i].Name, authorizing, kind, err)
}

// warnStep logs a failure of kind at step of the domain or authorization
// backend that key and name give, or counts it in w.
func (p *Pipeline) warnStep(w *stepWarnings, key, name string, step, kind int, err error) {
	p.warnLine(w, kind, warning{msg: failureLines[kind], key: key, name: name, step: step, err: err})
}

// warnLimited logs the warning msg with args as w's line of kind, or
// counts it (see warnLine).
func (p *Pipeline) warnLimited(w *stepWarnings, kind int, msg string, args ...any) {
	p.warnLine(w, kind, warning{msg: msg, args: args})
}

// warnLine logs l as w's line of kind, or counts it: a line within
// warnEvery of the last line of its kind is counted, and the next line
// logged (by a later call, or by reportIdle when none comes) carries the
// count as "suppressed". Only a line written builds its fields.
func (p *Pipeline) warnLine(w *stepWarnings, kind int, l warning) {
	now := p.now()
	w.mu.Lock()
	k := &w.kind[kind]
	if !k.last.IsZero() && now.Sub(k.last) < warnEvery {
		k.suppressed++
		k.pending = l
		w.setDue()
		if !w.armed {
			w.armed = true
			p.armReport(w, k.last.Add(warnEvery).Sub(now))
		}
		w.mu.Unlock()
		return
	}
	suppressed := k.suppressed
	k.last, k.lastAnswer, k.suppressed, k.pending = now, false, 0, warning{}
	w.setDue()
	w.mu.Unlock()
	p.log.Warn(l.msg, l.fields(suppressed)...)
}

// answered notes that domain i's realm answered at step, and reports the
// failures counted before, when that is due.
func (p *Pipeline) answered(i, step int) {
	p.answeredStep(&p.warnings[i][step], "domain", p.cfg.Domains[i].Name, step)
}

// answeredAuthz is answered for authorization backend i.
func (p *Pipeline) answeredAuthz(i int) {
	p.answeredStep(&p.authzWarnings[i], "authz", p.cfg.Authz[i].Name, authorizing)
}

// answeredStep notes an answer at step of the domain or authorization
// backend that key and name give, and reports the failures w counted
// before, when that is due.
func (p *Pipeline) answeredStep(w *stepWarnings, key, name string, step int) {
	due := w.due.Load()
	if due == 0 {
		return
	}
	now := p.now()
	if now.UnixNano() < due {
		return
	}
	var counts [2]int
	w.mu.Lock()
	for n := range w.kind {
		k := &w.kind[n]
		if k.suppressed > 0 && (!k.lastAnswer || now.Sub(k.last) >= warnEvery) {
			counts[n] = k.suppressed
			k.last, k.lastAnswer, k.suppressed, k.pending = now, true, 0, warning{}
		}
	}
	w.setDue()
	w.mu.Unlock()
	if counts != [2]int{} {
		p.log.Info("domain answers again", key, name, "step", stepNames[step],
			"unavailable", counts[unavailable], "failed", counts[failed])
	}
}

// armReport arms the timer that runs reportIdle for w after delay; w.mu
// is held.
func (p *Pipeline) armReport(w *stepWarnings, delay time.Duration) {
	afterFunc(delay, func() { p.reportIdle(w) })
}

// reportIdle logs the failures w counted that no request has reported
// within warnEvery of the last line: requests stopped coming, or a reload
// replaced this pipeline, whose successor counts afresh. Each kind is
// logged as the last line it counted would have been (for a failure, with
// its error), with the count as "suppressed", so an outage's counts are
// never lost. A count not
// due yet arms the timer again. The timer fires at most once per
// warnEvery per step and kind, also after Close: the old generation's
// counts are logged after the swap.
func (p *Pipeline) reportIdle(w *stepWarnings) {
	type line struct {
		suppressed int
		warning
	}
	var lines []line
	now := p.now()
	w.mu.Lock()
	w.armed = false
	var next time.Duration
	for n := range w.kind {
		k := &w.kind[n]
		if k.suppressed == 0 {
			continue
		}
		if wait := k.last.Add(warnEvery).Sub(now); wait > 0 {
			if next == 0 || wait < next {
				next = wait
			}
			continue
		}
		lines = append(lines, line{k.suppressed, k.pending})
		k.last, k.lastAnswer, k.suppressed, k.pending = now, false, 0, warning{}
	}
	w.setDue()
	if next > 0 {
		w.armed = true
		p.armReport(w, next)
	}
	w.mu.Unlock()
	for _, l := range lines {
		p.log.Warn(l.msg, l.fields(l.suppressed)...)
	}
}
