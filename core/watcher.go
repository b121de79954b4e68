package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/core/config"
)

const (
	// reloadQuiet is how long the watcher waits after the last relevant
	// file event before reloading, so that an editor's burst of events
	// gives one reload.
	reloadQuiet = 100 * time.Millisecond
	// reloadMaxDelay bounds how long steady events can postpone a reload,
	// counted from the first event of the burst: a file written every few
	// milliseconds must not hold an edit back for ever.
	reloadMaxDelay = time.Second
)

// configFiles are the names in the config directory that Load reads.
var configFiles = []string{config.ConfigFile, config.InternalUsersFile, config.RolesMappingFile, config.RolesFile, config.RealmdFile}

// Watch reloads the config whenever the config directory, or a file the
// current generation depends on, changes. It watches directories rather
// than files, which is what catches editors' rename-writes, delete and
// re-create, and Kubernetes' atomic `..data` symlink swap; it also watches
// the config directory's parent, which is what catches the directory being
// deleted and re-created or, when it is a symlink, pointed elsewhere.
// Reload compares content hashes, so events that change nothing reload
// nothing. Watch returns when ctx ends.
func (d *Daemon) Watch(ctx context.Context) error {
	w, err := newWatcher(d.opts.Dir, d.watchDeps, func(ctx context.Context) { _, _ = d.Reload(ctx) }, d.logger)
	if err != nil {
		return err
	}
	w.stale = d.staleGeneration
	return w.run(ctx)
}

// staleGeneration reports the current generation and whether a file it
// depends on has already changed: edited while a plugin read it, or after
// realmd checksummed it but before the watcher watched it.
func (d *Daemon) staleGeneration() (id uint64, changed bool) {
	g := d.current.Load()
	if g == nil {
		return 0, false
	}
	return g.ID, g.filesChanged()
}

// watchDeps lists the files the current generation depends on, and the
// directories in which any name matters: the plugin directory (watched when
// a generation runs a plugin from it), where installing the executable a
// refused config asked for should retry that config.
func (d *Daemon) watchDeps() (files, anyName []string) {
	g := d.current.Load()
	if g == nil {
		return nil, nil
	}
	if dir := g.Settings.Realmd.PluginDir; dir != "" {
		anyName = []string{dir}
	}
	return g.watchedFiles(), anyName
}

// interest is which names in one watched directory matter.
type interest struct {
	names map[string]bool
	all   bool // every name matters
}

// watchPlan maps each directory to watch, symlinks resolved, to the names
// in it whose events matter.
type watchPlan map[string]*interest

// add records that names in dir matter.
func (p watchPlan) add(dir string, names ...string) {
	in := p[dir]
	if in == nil {
		in = &interest{names: map[string]bool{}}
		p[dir] = in
	}
	for _, n := range names {
		if n != "" {
			in.names[n] = true
		}
	}
}

// relevant reports whether ev can change what a generation loads: it names
// a watched directory itself, or a name that matters in its directory.
// Names starting with ".." always matter, because that is how Kubernetes
// swaps a mounted ConfigMap or Secret (`..data`).
func (p watchPlan) relevant(ev fsnotify.Event) bool {
	if p[ev.Name] != nil {
		return true
	}
	in := p[filepath.Dir(ev.Name)]
	if in == nil {
		return false
	}
	name := filepath.Base(ev.Name)
	return in.all || in.names[name] || strings.HasPrefix(name, "..")
}

// wants reports whether the plan needs dir: it watches dir, or waits
// for it to exist through its parent.
func (p watchPlan) wants(dir string) bool {
	if p[dir] != nil {
		return true
	}
	in := p[filepath.Dir(dir)]
	return in != nil && in.names[filepath.Base(dir)]
}

// watcher turns file events into reloads.
type watcher struct {
	dir    string // absolute config directory, as given: it may be a symlink
	deps   func() (files, anyName []string)
	reload func(context.Context)
	// stale, when set, reports the current generation and whether a file
	// it depends on changed before the watcher could see the edit.
	stale   func() (generation uint64, changed bool)
	checked uint64 // the last generation stale was asked about
	logger  hclog.Logger

	fs      *fsnotify.Watcher
	plan    watchPlan
	watched map[string]bool // directories with a watch in fs
	lost    map[string]bool // directories watched once, whose watch was dropped; true once logged
	failed  map[string]bool // directories that could not be watched, warned once
	target  string          // where dir resolved to at the last sync
}

func newWatcher(dir string, deps func() (files, anyName []string), reload func(context.Context), logger hclog.Logger) (*watcher, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving the config directory: %w", err)
	}
	fs, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("starting the file watcher: %w", err)
	}
	return &watcher{
		dir: abs, deps: deps, reload: reload, logger: logger, fs: fs,
		watched: map[string]bool{}, lost: map[string]bool{}, failed: map[string]bool{},
	}, nil
}

// run watches, and reloads after relevant events, until ctx ends.
func (w *watcher) run(ctx context.Context) error {
	defer w.fs.Close()
	w.sync()
	return w.loop(ctx)
}

// loop waits for events and reloads a quiet period after a relevant one.
func (w *watcher) loop(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var first time.Time // of the pending burst; zero when none is pending
	schedule := func() {
		if first.IsZero() {
			first = time.Now()
		}
		timer.Reset(debounce(time.Since(first)))
	}
	// recheck reloads once more when a new generation, now that its files
	// are watched, already depends on a changed file: that edit happened
	// while its plugin read the file, or before the watch, and no event is
	// left to announce it. Each generation is asked once, so a reload that
	// is refused, and leaves the stale generation serving, is not retried
	// in a loop.
	recheck := func() {
		if w.stale == nil {
			return
		}
		if id, changed := w.stale(); id != w.checked {
			w.checked = id
			if changed {
				w.logger.Info("a depended-on file changed before realmd watched it; reloading", "generation", id)
				schedule()
			}
		}
	}
	recheck()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.fs.Events:
			if !ok {
				return nil
			}
			if w.event(ev) {
				schedule()
			}
		case err, ok := <-w.fs.Errors:
			if !ok {
				return nil
			}
			w.logger.Warn("file watcher error", "error", err)
			schedule()
		case <-timer.C:
			first = time.Time{}
			w.sync() // a re-created or re-pointed directory is watched before it is read
			w.reload(ctx)
			w.sync() // the new generation's files
			recheck()
		}
	}
}

// debounce is how long to wait for quiet when the pending burst began
// sinceFirst ago: reloadQuiet, but never past reloadMaxDelay.
func debounce(sinceFirst time.Duration) time.Duration {
	return max(0, min(reloadQuiet, reloadMaxDelay-sinceFirst))
}

// event handles one file event and reports whether it should reload. A
// watched directory that is removed or renamed loses its watch (inotify
// follows the inode, which is gone or elsewhere), so it is forgotten here;
// sync, which the event schedules, watches it again once it exists, or
// drops it if the plan no longer needs it.
func (w *watcher) event(ev fsnotify.Event) bool {
	if w.watched[ev.Name] && ev.Has(fsnotify.Remove|fsnotify.Rename) {
		_ = w.fs.Remove(ev.Name) // fsnotify may have dropped it already
		w.lose(ev.Name)
	}
	relevant := w.plan.relevant(ev)
	w.logger.Trace("file event", "name", ev.Name, "op", ev.Op.String(), "relevant", relevant)
	return relevant
}

// lose forgets the watch on dir; sync decides whether to say so.
func (w *watcher) lose(dir string) {
	delete(w.watched, dir)
	if _, ok := w.lost[dir]; !ok {
		w.lost[dir] = false
	}
}

// sync makes the watches match the current plan: it forgets watches the
// kernel dropped, adds missing ones, and removes those no longer needed.
// A lost directory that the plan still wants is logged once; one it no
// longer wants is dropped without a word: each Kubernetes ..data swap
// deletes the timestamped directory the files resolved to, for good.
func (w *watcher) sync() {
	w.plan = w.makePlan()
	active := map[string]bool{}
	for _, dir := range w.fs.WatchList() {
		active[dir] = true
	}
	for dir := range w.watched {
		if !active[dir] {
			w.lose(dir)
		}
	}
	for dir, logged := range w.lost {
		switch {
		case !w.plan.wants(dir):
			delete(w.lost, dir)
			w.logger.Debug("watched directory disappeared and is no longer needed", "dir", dir)
		case !logged:
			w.lost[dir] = true
			w.logger.Info("watched directory disappeared; it is watched again when it exists", "dir", dir)
		}
	}
	for dir := range w.plan {
		if !w.watched[dir] {
			w.add(dir)
		}
	}
	for dir := range w.watched {
		if w.plan[dir] == nil {
			_ = w.fs.Remove(dir)
			delete(w.watched, dir)
		}
	}
}

// add watches dir, warning once if it cannot.
func (w *watcher) add(dir string) {
	_, lost := w.lost[dir]
	if err := w.fs.Add(dir); err != nil {
		if !w.failed[dir] && !lost {
			w.logger.Warn("cannot watch directory; edits in it reload only on SIGHUP", "dir", dir, "error", err)
		}
		w.failed[dir] = true
		return
	}
	w.watched[dir] = true
	delete(w.failed, dir)
	if lost {
		delete(w.lost, dir)
		w.logger.Info("watching directory again", "dir", dir)
	}
}

// makePlan resolves, now, the directories to watch: the config directory's
// parent (for the config directory's own name), the directory the config
// directory resolves to (for the config files), and the directory of every
// file the current generation depends on (for that file's name). A missing
// directory is watched for through its parent.
func (w *watcher) makePlan() watchPlan {
	p := watchPlan{}
	if parent := filepath.Dir(w.dir); parent != w.dir {
		p.add(resolve(parent), filepath.Base(w.dir))
	}
	target, err := filepath.EvalSymlinks(w.dir)
	if err == nil {
		for _, name := range configFiles {
			p.add(target, name, linkHead(filepath.Join(target, name)))
			p.addLinks(filepath.Join(target, name))
		}
	}
	if target != w.target && w.target != "" && target != "" {
		w.logger.Info("config directory now resolves elsewhere", "dir", w.dir, "from", w.target, "to", target)
	}
	w.target = target
	files, anyName := w.deps()
	for _, f := range files {
		dir := filepath.Dir(f)
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			p.add(resolve(filepath.Dir(dir)), filepath.Base(dir))
			continue
		}
		p.add(real, filepath.Base(f), linkHead(f))
		p.addLinks(f)
	}
	for _, dir := range anyName {
		if in := p[resolve(dir)]; in != nil {
			in.all = true
		}
	}
	return p
}

// addLinks watches every name path's content depends on through
// symlinks: each link's target in turn, down to the file itself, in the
// directory it resolves to. An edit in place of the final file (config.yml
// -> /srv/shared/config.yml, or -> sub/config.yml) then reaches a watched
// directory; linkHead covers the replacement of a relative target's first
// directory (the Kubernetes ..data swap).
func (p watchPlan) addLinks(path string) {
	for range maxLinkHops {
		target, err := os.Readlink(path)
		if err != nil {
			return
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
		p.add(resolve(filepath.Dir(path)), filepath.Base(path))
	}
}

// maxLinkHops bounds addLinks on a symlink loop, as the kernel's own limit
// of 40 does.
const maxLinkHops = 40

// resolve is path with symlinks resolved, or path itself when that fails.
func resolve(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	return filepath.Clean(path)
}

// linkHead is, when path is a symlink to a relative target, the target's
// first name: the entry in path's directory whose replacement changes
// path's content (config.yml -> prod.yml depends on prod.yml).
func linkHead(path string) string {
	target, err := os.Readlink(path)
	if err != nil || filepath.IsAbs(target) {
		return ""
	}
	head, _, _ := strings.Cut(filepath.Clean(target), string(filepath.Separator))
	if head == ".." || head == "." {
		return ""
	}
	return head
}
