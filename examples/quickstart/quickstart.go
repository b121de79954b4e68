// Package quickstart embeds the quickstart config directory, realmd's
// default when serve is given no --config.
package quickstart

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed *.yml
var files embed.FS

// FS is the quickstart config directory.
func FS() fs.FS { return files }

// Extract writes the quickstart config into a new temporary directory and
// returns its path; the caller removes it.
func Extract() (string, error) {
	dir, err := os.MkdirTemp("", "realmd-quickstart-")
	if err != nil {
		return "", err
	}
	err = fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), b, 0o600)
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}
