package sdk

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxFileBytes bounds what ReadFile reads.
const MaxFileBytes = 16 << 20

// NotRegular is nil for a regular file and otherwise says what the file is.
// realmd reads only regular files (through a symlink is fine): opening a
// named pipe blocks until someone writes to it, and a device such as
// /dev/zero never ends.
func NotRegular(m fs.FileMode) error {
	if m.IsRegular() {
		return nil
	}
	kind := "not a regular file"
	switch {
	case m.IsDir():
		kind = "a directory"
	case m&fs.ModeNamedPipe != 0:
		kind = "a named pipe"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeDevice != 0:
		kind = "a device"
	}
	return fmt.Errorf("it is %s; only regular files (or symlinks to them) are read", kind)
}

// ReadFile reads a file a realm was configured with (a CA bundle, a key):
// a regular file of at most MaxFileBytes, opened without blocking. Use it
// instead of os.ReadFile, which hangs the plugin on a named pipe.
func ReadFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := ReadRegular(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

// ReadRegular reads an open file that must be regular and at most
// MaxFileBytes: its size is checked before reading, and again while reading
// in case it grew. realmd's config loader reads through it too.
func ReadRegular(f fs.File) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := NotRegular(info.Mode()); err != nil {
		return nil, err
	}
	if info.Size() > MaxFileBytes {
		return nil, fmt.Errorf("the file is %d bytes, more than the limit of %d", info.Size(), MaxFileBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("the file grew past the limit of %d bytes while it was read", MaxFileBytes)
	}
	return data, nil
}
