package core

import (
	"context"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// reloadQuiet is how long the watcher waits after the last file event before
// reloading, so that an editor's burst of events gives one reload.
const reloadQuiet = 100 * time.Millisecond

// Watch reloads the config whenever the config directory, or a file the
// current generation depends on, changes. It watches directories rather
// than files, which is what catches editors' rename-writes, delete and
// re-create, and Kubernetes' atomic `..data` symlink swap. Reload compares
// content hashes, so events that change nothing reload nothing. Watch
// returns when ctx ends.
func (d *Daemon) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	watched := map[string]bool{}
	sync := func() {
		want := map[string]bool{d.opts.Dir: true}
		if g := d.current.Load(); g != nil {
			for _, f := range g.watchedFiles() {
				want[filepath.Dir(f)] = true
			}
		}
		for dir := range want {
			if !watched[dir] {
				if err := w.Add(dir); err != nil {
					d.logger.Warn("cannot watch directory", "dir", dir, "error", err)
					continue
				}
				watched[dir] = true
			}
		}
		for dir := range watched {
			if !want[dir] {
				_ = w.Remove(dir)
				delete(watched, dir)
			}
		}
	}
	sync()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			d.logger.Trace("file event", "name", ev.Name, "op", ev.Op.String())
			quiet.Reset(reloadQuiet)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			d.logger.Warn("file watcher error", "error", err)
			quiet.Reset(reloadQuiet)
		case <-quiet.C:
			_, _ = d.Reload(ctx)
			sync()
		}
	}
}
