package config

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/realmd/realmd/sdk"
)

// Load reads the config directory dir: config.yml, internal_users.yml,
// roles_mapping.yml and roles.yml (required, as OpenSearch requires them),
// and realmd.yml (optional). Other files, such as action_groups.yml or
// tenants.yml, are not read.
//
// It returns every problem at once, errors and warnings, sorted by file and
// line. Settings is nil when any problem is not a warning. ${env.NAME},
// ${env.NAME:-default} and ${envbase64.NAME} in keys and values are
// substituted from the process environment (in roles.yml, only in the role
// names).
//
// The files come from one version: when a symlink on the way to any of them
// (a Kubernetes ConfigMap's ..data) is re-pointed while Load reads them,
// Load reads them all again, and refuses after loadTries such loads.
func Load(dir string) (*Settings, Problems) {
	return loadFrom(dir, os.DirFS)
}

// loadFrom is Load reading the directory through open, which tests replace
// to change files between two reads.
func loadFrom(dir string, open func(string) fs.FS) (*Settings, Problems) {
	abs, err := filepath.Abs(dir)
	if err == nil {
		var fi os.FileInfo
		if fi, err = os.Stat(abs); err == nil && !fi.IsDir() {
			err = errors.New("not a directory")
		}
	}
	if err != nil {
		return nil, Problems{{File: dir, Message: "cannot read the config directory: " + err.Error()}}
	}
	for try := 1; ; try++ {
		before := whereFilesResolve(abs)
		s, problems := load(open(abs), abs, os.LookupEnv)
		if whereFilesResolve(abs) == before {
			return s, problems
		}
		if try == loadTries {
			return nil, Problems{{File: dir, Message: fmt.Sprintf("the config files were re-pointed while realmd read them, %d times in a row "+
				"(a Kubernetes ..data swap, or a symlink on the way to them changed), so what was read may mix two versions and nothing was applied; "+
				"once the files stop changing, send SIGHUP (or start realmd again)", loadTries)}}
		}
	}
}

// loadTries bounds how often Load reads the config files again because
// they moved while it read them.
const loadTries = 5

// whereFilesResolve is where dir and each config file in it resolve to,
// symlinks followed, or why they do not. Load reads each file through its
// own path, so a Kubernetes ..data swap (or any symlink re-pointed) between
// two reads would mix two versions; the same answer before and after a
// load shows that every read went to the same place. It cannot see a swap
// that is undone within the load, which Kubernetes never does: each update
// is a new directory.
func whereFilesResolve(dir string) string {
	var b strings.Builder
	for _, name := range []string{".", RealmdFile, ConfigFile, RolesFile, InternalUsersFile, RolesMappingFile} {
		real, err := filepath.EvalSymlinks(filepath.Join(dir, name))
		if err != nil {
			real = "(" + err.Error() + ")"
		}
		b.WriteString(real)
		b.WriteByte(0)
	}
	return b.String()
}

// LoadFS is Load for the files at the root of fsys. dir is the directory
// they stand for: it becomes Settings.Dir, and a relative plugin_directory
// is resolved against it on the real file system.
func LoadFS(fsys fs.FS, dir string) (*Settings, Problems) {
	return load(fsys, dir, os.LookupEnv)
}

// loader reads the files of one config directory.
type loader struct {
	fsys     fs.FS
	lookup   func(string) (string, bool)
	problems Problems
	contents map[string][]byte // every file read, for the hash
	present  []string          // names in the directory, for hints
}

func load(fsys fs.FS, dir string, lookup func(string) (string, bool)) (*Settings, Problems) {
	l := &loader{fsys: fsys, lookup: lookup, contents: map[string][]byte{}}
	if entries, err := fs.ReadDir(fsys, "."); err == nil {
		for _, e := range entries {
			l.present = append(l.present, e.Name())
		}
	}
	s := &Settings{Dir: dir}

	f, root, ok := l.read(RealmdFile, false, true)
	s.Realmd = DefaultRealmd()
	if ok {
		s.Realmd = parseRealmd(f, root, dir)
	}
	if f, root, ok = l.read(ConfigFile, true, true); ok {
		s.Security = parseSecurity(f, root)
	}
	if f, root, ok = l.read(RolesFile, false, false); ok {
		f.substituteKeys(root, l.lookup)
		s.Roles = parseRoles(f, root)
	} else if _, statErr := fs.Stat(l.fsys, RolesFile); errors.Is(statErr, fs.ErrNotExist) {
		// realmd reads roles.yml only to filter opendistro_security_roles;
		// without it only OpenSearch's static roles are known.
		f.warnf(0, "", "missing: OpenSearch requires %s; without it internal users' opendistro_security_roles keep only OpenSearch's static roles%s", RolesFile, l.lookalike(RolesFile))
		s.Roles = parseRoles(f, nil)
	}
	if f, root, ok = l.read(InternalUsersFile, true, true); ok {
		s.Users = parseUsers(f, root, s.Roles)
	}
	if f, root, ok = l.read(RolesMappingFile, true, true); ok {
		s.RoleMappings = parseMappings(f, root)
	}

	s.Hash, s.FileSums = l.hash()
	sort.SliceStable(l.problems, func(i, j int) bool {
		a, b := l.problems[i], l.problems[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	if l.problems.Err() != nil {
		return nil, l.problems
	}
	return s, l.problems
}

// read reads and parses one file. It reports false when the file is absent
// or unreadable, or has a YAML syntax error; every such case but an absent
// optional file is a problem. subst applies ${env.X} substitution.
func (l *loader) read(name string, required, subst bool) (*file, *yaml.Node, bool) {
	f := &file{name: name, problems: &l.problems}
	data, err := readRegular(l.fsys, name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if required {
			f.errorf(0, "", "missing: OpenSearch requires %s%s", name, l.lookalike(name))
		}
		return f, nil, false
	case err != nil:
		f.errorf(0, "", "cannot read the file: %v", err)
		return f, nil, false
	}
	l.contents[name] = data
	root, ok := f.parse(data)
	if ok && subst {
		f.substituteTree(root, "", l.lookup)
	}
	return f, root, ok
}

// readRegular reads a regular file of at most sdk.MaxFileBytes (sdk.ReadRegular).
// It checks the file's type before opening it too: opening a named pipe
// blocks until someone writes to it (a reload hung, holding the reload lock,
// and so did SIGTERM), and fs.FS has no non-blocking open.
func readRegular(fsys fs.FS, name string) ([]byte, error) {
	info, err := fs.Stat(fsys, name) // follows a symlink: a link to a regular file is fine
	if err != nil {
		return nil, err
	}
	if err := sdk.NotRegular(info.Mode()); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return sdk.ReadRegular(f)
}

// lookalike names a present file whose name is close to name, as a hint.
func (l *loader) lookalike(name string) string {
	var yml []string
	for _, p := range l.present {
		if strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml") {
			yml = append(yml, p)
		}
	}
	if s := sdk.Suggest(name, yml); s != "" {
		return "; found " + s + ", which realmd does not read: rename it to " + name
	}
	if name == RolesFile {
		return "; if you define no roles, create it with just _meta: {type: roles, config_version: 2}"
	}
	return ""
}

// hash is SHA-256 over the name, length and content of every file read,
// in name order (all), and the SHA-256 of each file's content (each).
func (l *loader) hash() (all string, each map[string]string) {
	names := make([]string, 0, len(l.contents))
	for n := range l.contents {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	each = make(map[string]string, len(names))
	for _, n := range names {
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(l.contents[n]))))
		h.Write(l.contents[n])
		sum := sha256.Sum256(l.contents[n])
		each[n] = hex.EncodeToString(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil)), each
}
