package core

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/realmd/realmd/core/config"
)

// loadConfig is config.Load, and also returns the SHA-256 of each config
// file by name, taken from the very bytes Load read: a file edited while
// it loads is summed as loaded. Settings.Hash covers the files together;
// these sums tell a reload which of them changed.
func loadConfig(dir string) (*config.Settings, config.Problems, map[string]string) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(abs); err == nil && !fi.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		s, problems := config.Load(dir) // which says why it cannot read dir
		return s, problems, nil
	}
	fsys := &summingFS{fsys: os.DirFS(abs), sums: map[string]string{}}
	s, problems := config.LoadFS(fsys, abs)
	return s, problems, fsys.sums
}

// summingFS is an fs.FS that records, by name, the SHA-256 of what was
// read from each file opened through it and closed. Stat and ReadDir go
// straight to the underlying file system, so that a stat opens nothing
// (opening a named pipe blocks). Load reads files one after another, from
// one goroutine.
type summingFS struct {
	fsys fs.FS
	sums map[string]string
}

// Interface guards
var (
	_ fs.StatFS    = (*summingFS)(nil)
	_ fs.ReadDirFS = (*summingFS)(nil)
)

func (s *summingFS) Open(name string) (fs.File, error) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	return &summingFile{File: f, name: name, h: sha256.New(), sums: s.sums}, nil
}

func (s *summingFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(s.fsys, name) }

func (s *summingFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(s.fsys, name) }

type summingFile struct {
	fs.File
	name string
	h    hash.Hash
	sums map[string]string
}

func (f *summingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.h.Write(p[:n])
	return n, err
}

func (f *summingFile) Close() error {
	f.sums[f.name] = hex.EncodeToString(f.h.Sum(nil))
	return f.File.Close()
}
