package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// k8sDir writes a Kubernetes-style mounted ConfigMap: one ..vN directory
// per version, ..data pointing at ..v1, and each config file a symlink
// through ..data. Version N's realmd.yml names the roles header X-Roles-vN
// and its admin has backend role rN.
func k8sDir(t *testing.T, versions int) string {
	t.Helper()
	dir := t.TempDir()
	for v := 1; v <= versions; v++ {
		files := map[string]string{
			RealmdFile:        fmt.Sprintf("headers:\n  roles: X-Roles-v%d\n", v),
			ConfigFile:        minimalConfig,
			InternalUsersFile: strings.Replace(minimalUsers, "[admin]", fmt.Sprintf("[r%d]", v), 1),
			RolesMappingFile:  minimalMappings,
			RolesFile:         minimalRoles,
		}
		for name, content := range files {
			p := filepath.Join(dir, fmt.Sprintf("..v%d", v), name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{RealmdFile, ConfigFile, InternalUsersFile, RolesMappingFile, RolesFile} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// swapData points dir/..data at target as Kubernetes does: a new link
// renamed over the old one.
func swapData(t *testing.T, dir, target string) {
	t.Helper()
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
}

// hookFS runs before(name) ahead of each Open.
type hookFS struct {
	fs.FS
	before func(name string)
}

func (h hookFS) Open(name string) (fs.File, error) {
	h.before(name)
	return h.FS.Open(name)
}

// version names the one version s was loaded from, or fails the test when
// its files come from different versions.
func version(t *testing.T, s *Settings) string {
	t.Helper()
	header := strings.TrimPrefix(s.Realmd.Headers.Roles, "X-Roles-")
	var roles []string
	for _, u := range s.Users {
		roles = append(roles, u.BackendRoles...)
	}
	if len(roles) != 1 || strings.TrimPrefix(roles[0], "r") != strings.TrimPrefix(header, "v") {
		t.Fatalf("loaded a mix of versions: realmd.yml's roles header %s, internal_users.yml's backend roles %v", s.Realmd.Headers.Roles, roles)
	}
	return header
}

// Found by review: a reload that overlapped a Kubernetes ..data swap read
// realmd.yml from the old version and internal_users.yml from the new one,
// and served that mix until the next reload.
func TestLoad_ASwapDuringTheLoadGivesOneVersion(t *testing.T) {
	dir := k8sDir(t, 2)
	swapped := false
	s, ps := loadFrom(dir, func(root string) fs.FS {
		return hookFS{os.DirFS(root), func(name string) {
			if name == InternalUsersFile && !swapped {
				swapped = true
				swapData(t, dir, "..v2")
				if err := os.RemoveAll(filepath.Join(dir, "..v1")); err != nil {
					t.Fatal(err)
				}
			}
		}}
	})
	if ps.Err() != nil {
		t.Fatalf("load refused: %v", ps)
	}
	if !swapped {
		t.Fatal("the test did not swap ..data during the load")
	}
	if got := version(t, s); got != "v2" {
		t.Errorf("loaded %s, want v2, the version left in place", got)
	}
}

func TestLoad_FilesThatKeepMovingAreRefused(t *testing.T) {
	dir := k8sDir(t, 2)
	next := 2
	s, ps := loadFrom(dir, func(root string) fs.FS {
		swapped := false // once in each load
		return hookFS{os.DirFS(root), func(name string) {
			if name == InternalUsersFile && !swapped {
				swapped = true
				swapData(t, dir, fmt.Sprintf("..v%d", next))
				next = 3 - next
			}
		}}
	})
	if s != nil {
		t.Fatalf("loaded %s from files re-pointed during every read, want a refusal", version(t, s))
	}
	if err := ps.Err(); err == nil || !strings.Contains(err.Error(), "re-pointed while realmd read them") {
		t.Errorf("problems = %v, want one saying the files were re-pointed while realmd read them", ps)
	}
}

func TestLoad_PlainDirectoryLoadsOnce(t *testing.T) {
	dir := writeDir(t, nil)
	opens := 0
	if _, ps := loadFrom(dir, func(root string) fs.FS { opens++; return os.DirFS(root) }); ps.Err() != nil {
		t.Fatalf("load refused: %v", ps)
	}
	if opens != 1 {
		t.Errorf("opened the directory %d times, want 1", opens)
	}
}
