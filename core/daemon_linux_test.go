package core

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"unsafe"
)

// An unchanged reload reads each third-party plugin executable once, to
// see whether it changed, not a second time: resolving the types again to
// check that they still start needs no checksum. Found by review: it
// hashed every executable twice and threw the second sums away.
func TestDaemon_AnUnchangedReloadHashesEachPluginExecutableOnce(t *testing.T) {
	dir := fakeConfigDir(t)
	plugin := filepath.Join(dir, "plugins", "fake")
	d := New(Options{Dir: dir, Listen: freeAddr(t)})
	serve(t, d)
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	// Closes are watched too: inotify merges an event into an unread
	// identical one, so two opens in a row would read as one.
	if _, err := syscall.InotifyAddWatch(fd, plugin, syscall.IN_OPEN|syscall.IN_CLOSE_NOWRITE); err != nil {
		t.Fatal(err)
	}
	if changed, err := d.Reload(context.Background()); changed || err != nil {
		t.Fatalf("reload: changed %v, %v; want unchanged", changed, err)
	}
	opens := 0
	buf := make([]byte, 4096)
	for {
		n, err := syscall.Read(fd, buf)
		if n <= 0 || err != nil {
			break
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			if ev.Mask&syscall.IN_OPEN != 0 {
				opens++
			}
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
	if opens != 1 {
		t.Errorf("an unchanged reload opened the plugin executable %d times, want 1 (its change check)", opens)
	}
}
