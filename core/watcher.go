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
// parent (for the config directory's own name), and, for each config file
// and each file the current generation depends on, every directory on the
// way to it that holds a symlink (for the link's name) and the directory
// the file resolves to (for its name), as addPath finds them. A missing
// directory is watched for through its parent.
func (w *watcher) makePlan() watchPlan {
	p := watchPlan{}
	if parent := filepath.Dir(w.dir); parent != w.dir {
		p.add(resolve(parent), filepath.Base(w.dir))
	}
	target, _ := filepath.EvalSymlinks(w.dir)
	if target != w.target && w.target != "" && target != "" {
		w.logger.Info("config directory now resolves elsewhere", "dir", w.dir, "from", w.target, "to", target)
	}
	w.target = target
	for _, name := range configFiles {
		p.addPath(filepath.Join(w.dir, name))
	}
	files, anyName := w.deps()
	for _, f := range files {
		p.addPath(f)
	}
	for _, dir := range anyName {
		if in := p[resolve(dir)]; in != nil {
			in.all = true
		}
	}
	return p
}

// addPath records every name the content of path depends on. It resolves path one name at a time, as the kernel does:
// each symlink met, at the end or on the way (conf/certs -> certs-v1 in
// conf/certs/ca.pem, a --config app/cur -> ../current -> releases/r1), is
// recorded in the directory that holds it, since re-pointing it (ln -s and
// a rename over it, a Kubernetes ..data swap) changes what path reads, and
// resolving goes on from its target; the last name is recorded in the
// directory it resolves to, so an edit in place is seen too. A name that
// does not exist is recorded in its directory, which is then watched for it
// to appear, and ends the walk. Directories on the way that are not links
// are not watched: each is the directory its path names.
func (p watchPlan) addPath(path string) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	dir := string(filepath.Separator) // resolved so far: no symlinks in it
	rest := splitPath(path)
	for hops := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			dir = filepath.Dir(dir)
			continue
		}
		next := filepath.Join(dir, name)
		info, err := os.Lstat(next)
		link := err == nil && info.Mode()&os.ModeSymlink != 0
		if err != nil || link || len(rest) == 0 || !info.IsDir() {
			p.add(dir, name)
		}
		switch {
		case err != nil, !link && !info.IsDir():
			return
		case !link:
			dir = next
			continue
		}
		target, err := os.Readlink(next)
		if hops++; err != nil || hops > maxLinkHops {
			return
		}
		if filepath.IsAbs(target) {
			dir = string(filepath.Separator)
		}
		rest = append(splitPath(target), rest...)
	}
}

// splitPath is path's names, in order; an absolute path's first is "".
func splitPath(path string) []string {
	return strings.Split(filepath.Clean(path), string(filepath.Separator))
}

// maxLinkHops bounds addPath on a symlink loop, as the kernel's own limit
// of 40 does.
const maxLinkHops = 40

// resolve is path with symlinks resolved, or path itself when that fails.
func resolve(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	return filepath.Clean(path)
}
