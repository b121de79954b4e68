//go:build !linux

package sdk

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"

	"github.com/hashicorp/go-plugin"
)

// configureChild is a no-op where the kernel has no parent-death signal;
// Serve's parent poll covers it.
func configureChild(*exec.Cmd) {}

// killTree kills the plugin process; without process groups of its own
// (configureChild) there is no tree to find.
func killTree(cmd *exec.Cmd) error {
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// openNoFollow opens path for reading, refusing a symlink as the last
// element, and a file swapped in between the check and the open.
func openNoFollow(path string) (*os.File, error) {
	before, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if before.Mode()&os.ModeSymlink != 0 {
		return nil, symlinkError(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if after, err := f.Stat(); err != nil || !os.SameFile(before, after) {
		f.Close()
		return nil, fmt.Errorf("%s changed while it was being opened", path)
	}
	return f, nil
}

// runPinned cannot run the open file here: there is no /proc/self/fd to
// execute. It leaves cfg.Cmd running its path, checked once more by
// go-plugin just before the start, which narrows but does not close the
// window for a file swapped in after the check.
func runPinned(cfg *LaunchConfig, _ *os.File) (*plugin.SecureConfig, error) {
	return &plugin.SecureConfig{Checksum: cfg.Checksum, Hash: sha256.New()}, nil
}
