package sdk

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// stderrTail is how many of a plugin's stray stderr lines a start error
// quotes; stderrLineMax bounds each line kept, in bytes.
const (
	stderrTail    = 5
	stderrLineMax = 512
)

// A plugin that writes to stderr on every call must not flood the host's
// log: at most stderrBurst lines are logged per stderrEvery, and the lines
// left out are counted on the next one logged.
const (
	stderrBurst = 10
	stderrEvery = 10 * time.Second
)

// stderrLog is the host's copy of a plugin's stderr (go-plugin's
// ClientConfig.Stderr gets every line). go-plugin logs the plugin's JSON
// log entries at their own level, lines that start with "[WARN]" and the
// like at that level, and a panic at error, but every other line at debug,
// which realmd's default level hides: a plugin that wrote
// "cannot start: ..." (log.Fatal before Serve) and exited left the
// operator with go-plugin's "Unrecognized remote plugin message" alone.
// stderrLog logs those other lines at warn, naming the plugin, and keeps
// the last few (and a panic's first line) for the start error.
//
// go-plugin writes from one goroutine, one line at a time followed by a
// newline (a line longer than its buffer in pieces); the lock is for
// lastLines.
type stderrLog struct {
	logger hclog.Logger
	plugin string

	now func() time.Time

	mu      sync.Mutex
	line    []byte // the line being written, at most stderrLineMax bytes
	cut     bool   // the line being written was longer
	inPanic bool   // go-plugin logs every later line at error
	tail    []string

	since      time.Time // when the current stderrEvery began
	logged     int       // lines logged since then
	suppressed int       // lines not logged since the last one that was

	// warned is the line just warned about, as written (at most
	// stderrLineMax bytes; warnedCut when it was longer), until go-plugin
	// logs it at debug through the logger goPluginLogger gives it.
	warned    string
	warnedCut bool
}

// schedState matches the lines of Go's scheduler state, which a Go
// plugin's runtime prints when GODEBUG sets schedtrace, as realmd sets it
// for every plugin (core's Schedtrace): once at start on a machine up
// for longer than the setting's period, and with every G, M and P before
// a crash's trace. They are no message from the plugin.
var schedState = regexp.MustCompile(`^(SCHED \d+ms: gomaxprocs=|P\d+: status=\d|M\d+: p=(\d+|nil) curg=|G\d+: status=\d)`)

func newStderrLog(logger hclog.Logger, plugin string) *stderrLog {
	return &stderrLog{logger: logger, plugin: plugin, now: time.Now}
}

// Write takes a piece of the plugin's stderr. It never fails.
func (s *stderrLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		piece, rest, eol := bytes.Cut(p, []byte{'\n'})
		room := stderrLineMax - len(s.line)
		if len(piece) > room {
			piece, s.cut = piece[:room], true
		}
		s.line = append(s.line, piece...)
		if !eol {
			break
		}
		s.endLine()
		p = rest
	}
	return n, nil
}

// endLine handles the line written so far. Call with s.mu held.
func (s *stderrLog) endLine() {
	line := strings.TrimSpace(string(bytes.ToValidUTF8(s.line, []byte("\uFFFD"))))
	if s.cut {
		line += "…"
	}
	raw, cut := strings.TrimSuffix(string(s.line), "\r"), s.cut // go-plugin reads lines without "\r\n"
	s.line, s.cut = s.line[:0], false
	s.warned, s.warnedCut = "", false
	switch {
	case line == "" || s.inPanic:
		return
	case strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: "):
		s.inPanic = true // go-plugin logs it, and what follows, at error
		s.keep(line)
		return
	case strings.HasPrefix(line, "{"):
		return // one of the SDK's JSON log entries, which go-plugin logs at its level
	case schedState.MatchString(line):
		return // Go's scheduler state, which go-plugin logs at debug (see schedState)
	}
	for _, level := range []string{"[TRACE]", "[DEBUG]", "[INFO]", "[WARN]", "[ERROR]"} {
		if strings.HasPrefix(line, level) {
			return // go-plugin logs it at that level
		}
	}
	s.keep(line)
	if now := s.now(); now.Sub(s.since) >= stderrEvery {
		s.since, s.logged = now, 0
	}
	if s.logged == stderrBurst {
		s.suppressed++
		return
	}
	s.logged++
	args := []any{"plugin", s.plugin, "line", line}
	if s.suppressed > 0 {
		args = append(args, "lines_not_logged", s.suppressed)
		s.suppressed = 0
	}
	s.logger.Warn("plugin wrote to stderr", args...)
	s.warned, s.warnedCut = raw, cut
}

// goPluginLogged reports whether msg, which go-plugin is about to log at
// debug, is the stderr line s has just warned about.
func (s *stderrLog) goPluginLogged(msg string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.warned == "" {
		return false
	}
	same := msg == s.warned || (s.warnedCut && strings.HasPrefix(msg, s.warned))
	if same {
		s.warned, s.warnedCut = "", false
	}
	return same
}

// goPluginLogger is the logger to give go-plugin (ClientConfig.Logger)
// beside s as its Stderr. go-plugin hands s each stderr line and then logs
// the line itself, at debug when it is no log entry; that debug line is
// left out when s has just warned about the line, so that under
// --log-level debug a stray line is logged once, at warn, not twice.
// Everything else passes through to l.
func (s *stderrLog) goPluginLogger(l hclog.Logger) hclog.Logger {
	return &goPluginLogger{Logger: l, s: s}
}

type goPluginLogger struct {
	hclog.Logger
	s *stderrLog
}

func (l *goPluginLogger) Debug(msg string, args ...any) {
	if len(args) == 0 && l.s.goPluginLogged(msg) {
		return
	}
	l.Logger.Debug(msg, args...)
}

// Named and ResetNamed keep the filter on the logger go-plugin reads
// stderr with (it names it after the plugin's executable).
func (l *goPluginLogger) Named(name string) hclog.Logger {
	return &goPluginLogger{Logger: l.Logger.Named(name), s: l.s}
}

func (l *goPluginLogger) ResetNamed(name string) hclog.Logger {
	return &goPluginLogger{Logger: l.Logger.ResetNamed(name), s: l.s}
}

func (s *stderrLog) keep(line string) {
	if len(s.tail) == stderrTail {
		s.tail = append(s.tail[:0], s.tail[1:]...)
	}
	s.tail = append(s.tail, line)
}

// explain puts the plugin's last stray stderr lines before err, the error
// of a start that failed. Call it once go-plugin has stopped reading stderr
// (after plugin.Client.Kill), so that the lines of a plugin that exited are
// all in.
func (s *stderrLog) explain(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.line) > 0 {
		s.endLine() // a last line without a newline
	}
	if len(s.tail) == 0 {
		return err
	}
	quoted := make([]string, len(s.tail))
	for i, l := range s.tail {
		quoted[i] = fmt.Sprintf("%q", l)
	}
	// First: go-plugin's error goes on for lines of generic advice.
	return fmt.Errorf("the plugin's stderr ended with %s: %w", strings.Join(quoted, ", "), err)
}
