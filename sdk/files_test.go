package sdk

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A realm's configured files (CA bundles, keys) are read like realmd's own
// config: regular files only, bounded, never blocking on a named pipe.
func TestReadFile_OnlyRegularFilesOfBoundedSize(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(regular, []byte("pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.pem")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, MaxFileBytes+1); err != nil { // sparse
		t.Fatal(err)
	}
	pipe := filepath.Join(dir, "pipe.pem")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	tests := []struct{ name, path, wantErr string }{
		{"a regular file", regular, ""},
		{"a named pipe", pipe, "it is a named pipe; only regular files (or symlinks to them) are read"},
		{"a device", "/dev/zero", "it is a device"},
		{"a directory", dir, "it is a directory"},
		{"a file over the limit", huge, "more than the limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := ReadFile(tt.path); done <- err }()
			select {
			case err := <-done:
				if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("ReadFile blocked")
			}
		})
	}
}
