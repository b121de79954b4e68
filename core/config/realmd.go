package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/realmd/realmd/sdk"
)

// DefaultRealmd returns realmd's settings when realmd.yml is absent.
func DefaultRealmd() Realmd {
	return Realmd{
		Listen:                 "127.0.0.1:9200",
		CacheTTL:               60 * time.Minute,
		RolesMappingResolution: "MAPPING_ONLY",
		Headers:                IdentityHeaders{User: "X-Auth-User", Roles: "X-Auth-Roles", BackendRoles: "X-Auth-Backend-Roles"},
		PasswordHashing: PasswordHashing{
			Algorithm: "bcrypt", BcryptRounds: 12, BcryptMinor: "Y",
			PBKDF2Function: "SHA256", PBKDF2Iterations: 600000, PBKDF2Length: 256,
			Argon2Memory: 65536, Argon2Iterations: 3, Argon2Parallelism: 1, Argon2Length: 32,
			Argon2Type: "argon2id", Argon2Version: 19,
		},
		MaxHeaderBytes: 64 << 10,
		QueueSize:      1024,
		RequestTimeout: 10 * time.Second,
	}
}

// realmdParser reads realmd.yml.
type realmdParser struct {
	f       *file
	dir     string // the config directory, absolute
	r       Realmd
	seen    map[string]Pos // setting id -> where it was set
	seenKey map[string]string
	// headerSet holds the identity headers (headers.user, ...) set to a
	// valid name; the others keep their default.
	headerSet map[string]bool
	dirLine   int // line of plugin_directory
	plugLine  int // line of plugins
}

// parseRealmd reads realmd.yml's root node; nil means every default.
func parseRealmd(f *file, root *yaml.Node, dir string) Realmd {
	p := &realmdParser{f: f, dir: dir, r: DefaultRealmd(), seen: map[string]Pos{}, seenKey: map[string]string{}, headerSet: map[string]bool{}}
	p.r.Pos = Pos{File: f.name}
	if root == nil {
		return p.r
	}
	p.walk(root, "")
	p.check()
	return p.r
}

// walk reads the mapping n whose key path is prefix.
func (p *realmdParser) walk(n *yaml.Node, prefix string) {
	f := p.f
	f.pairs(n, prefix, func(k, v *yaml.Node, path string) {
		if prefix == "" {
			switch {
			case k.Value == "_meta":
				return // accepted, not required
			case k.Value == "plugins":
				p.plugLine = k.Line
				p.catalog(v, path)
				return
			case k.Value == "tls":
				f.errorf(k.Line, path, "tls is not supported yet by this build; remove it and terminate TLS in the proxy in front of realmd")
				return
			case k.Value == "plugins.security" || strings.HasPrefix(k.Value, "plugins.security."):
				p.node(k, v, path)
				return
			}
		}
		if s, ok := settingByName[path]; ok {
			p.set(s, s.name, k, v, path)
			return
		}
		if children := settingChildren(path); len(children) > 0 {
			p.walk(v, path)
			return
		}
		known := settingChildren(prefix)
		if prefix == "" {
			known = append(known, "plugins", "tls")
			sort.Strings(known)
		}
		f.unknownKey(k, path, known, nil)
	})
}

// node reads an OpenSearch node setting, flattening a nested mapping.
func (p *realmdParser) node(k, v *yaml.Node, name string) {
	if s, ok := settingByNode[name]; ok {
		p.set(s, name, k, v, name)
		return
	}
	if v.Kind == yaml.MappingNode {
		p.f.pairs(v, name, func(k, v *yaml.Node, path string) { p.node(k, v, path) })
		return
	}
	var nodes []string
	for n := range settingByNode {
		nodes = append(nodes, n)
	}
	msg := fmt.Sprintf("realmd does not use the OpenSearch node setting %q; remove it", name)
	if s := sdk.Suggest(name, nodes); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	p.f.errorf(k.Line, name, "%s", msg)
}

// set reads setting s, written under key, unless it was already set under
// its other name.
func (p *realmdParser) set(s *realmdSetting, key string, k, v *yaml.Node, path string) {
	id := s.id()
	if prev, ok := p.seen[id]; ok {
		if p.seenKey[id] == key { // the same name, once dotted and once nested
			p.f.errorf(k.Line, path, "is set twice (also at %s:%d, written the other way: dotted or nested); keep only one", prev.File, prev.Line)
			return
		}
		p.f.errorf(k.Line, path, "is the same setting as %s (%s:%d); keep only one of them", p.seenKey[id], prev.File, prev.Line)
		return
	}
	p.seen[id], p.seenKey[id] = Pos{File: p.f.name, Line: k.Line}, key
	s.read(p, v, path)
}

// catalog reads the plugins mapping: name -> {command, args, env, sha256}.
func (p *realmdParser) catalog(n *yaml.Node, path string) {
	f := p.f
	f.pairs(n, path, func(k, v *yaml.Node, path string) {
		if k.Value == "security" && nodeSettingsNested(v) {
			f.errorf(k.Line, path, "%s", nestedNodeSettingsMessage(v, path))
			return
		}
		e := CatalogEntry{Name: k.Value, Pos: Pos{File: f.name, Line: k.Line}}
		if !pluginNameRE.MatchString(k.Value) {
			f.errorf(k.Line, path, "a plugin name is the type written in config.yml: letters, digits, _ and -, starting with a letter or digit")
		}
		var hasCommand bool
		f.object(v, path, fields{
			"command": func(_, v *yaml.Node, path string) {
				s, ok := f.str(v, path)
				hasCommand = ok && s != ""
				switch {
				case !hasCommand:
				case filepath.IsAbs(s) || strings.HasPrefix(s, "/"):
					f.errorf(v.Line, path, "must be relative to plugin_directory, not an absolute path")
				case slices.Contains(strings.Split(filepath.ToSlash(s), "/"), ".."):
					f.errorf(v.Line, path, "must stay inside plugin_directory: remove the .. elements")
				default:
					e.Command = filepath.Clean(s)
				}
			},
			"args": func(_, v *yaml.Node, path string) { e.Args = values(f.list(v, path)) },
			"env": func(_, v *yaml.Node, path string) {
				for _, it := range f.list(v, path) {
					if name, _, ok := strings.Cut(it.value, "="); !ok || name == "" {
						f.errorf(it.line, it.path, "must be NAME=value, not %q", it.value)
						continue
					}
					e.Env = append(e.Env, it.value)
				}
			},
			"sha256": func(_, v *yaml.Node, path string) {
				s, ok := f.str(v, path)
				if !ok {
					return
				}
				if !sha256RE.MatchString(s) {
					f.errorf(v.Line, path, "must be 64 hexadecimal digits (the output of sha256sum), not %q", s)
					return
				}
				e.SHA256 = strings.ToLower(s)
			},
		}, nil)
		if !hasCommand && (v.Kind == yaml.MappingNode || isNull(v)) {
			f.errorf(k.Line, join(path, "command"), "missing: name the plugin's executable, relative to plugin_directory")
		}
		if p.r.Catalog == nil {
			p.r.Catalog = map[string]CatalogEntry{}
		}
		p.r.Catalog[e.Name] = e
	})
}

// catalogKeys are the keys of a plugins: catalog entry.
var catalogKeys = []string{"command", "args", "env", "sha256"}

// nodeSettingsNested reports whether v, the value of plugins.security in
// the plugins: catalog, holds OpenSearch node settings written nested
// (plugins: security: cache: ttl_minutes: 5) rather than a catalog entry
// for a plugin type named security: a mapping with none of a catalog
// entry's keys (an entry with a typo in one key still has the others, and
// gets the usual "did you mean"). Read as a catalog entry it gave three
// errors that never named the node settings.
func nodeSettingsNested(v *yaml.Node) bool {
	if v.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(v.Content); i += 2 {
		if slices.Contains(catalogKeys, v.Content[i].Value) {
			return false // a catalog entry, perhaps with a typo in another key
		}
	}
	return len(v.Content) > 0
}

// nestedNodeSettingsMessage refuses node settings nested under plugins:
// and shows them written with their dotted names, as realmd reads them.
func nestedNodeSettingsMessage(v *yaml.Node, path string) string {
	var flat []string
	var walk func(n *yaml.Node, name string)
	walk = func(n *yaml.Node, name string) {
		switch {
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i+1], name+"."+n.Content[i].Value)
			}
		case n.Kind == yaml.ScalarNode:
			flat = append(flat, fmt.Sprintf("%q", name+": "+n.Value))
		case n.Kind == yaml.SequenceNode && !slices.ContainsFunc(n.Content, func(it *yaml.Node) bool { return it.Kind != yaml.ScalarNode }):
			items := make([]string, len(n.Content))
			for i, it := range n.Content {
				items[i] = it.Value
			}
			flat = append(flat, fmt.Sprintf("%q", name+": ["+strings.Join(items, ", ")+"]"))
		default:
			flat = append(flat, fmt.Sprintf("%q", name+": ..."))
		}
	}
	walk(v, path)
	const shown = 3
	example := strings.Join(flat[:min(len(flat), shown)], ", ")
	if len(flat) > shown {
		example += fmt.Sprintf(" (and %d more)", len(flat)-shown)
	}
	return "OpenSearch node settings are accepted only in the flat dotted spelling, at the top level of realmd.yml; " +
		"nested under plugins: they read as the third-party plugin catalog. Write " + example
}

var (
	pluginNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	sha256RE     = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	hostnameRE   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$`)
)

// check validates what depends on more than one key.
func (p *realmdParser) check() {
	f, r := p.f, &p.r
	p.checkHeaders()
	if r.PluginDir != "" {
		dir := r.PluginDir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(p.dir, dir)
		}
		fi, err := os.Lstat(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			f.errorf(p.dirLine, "plugin_directory", "%q does not exist", r.PluginDir)
		case err != nil:
			f.errorf(p.dirLine, "plugin_directory", "cannot read it: %v", err)
		case fi.Mode()&os.ModeSymlink != 0:
			f.errorf(p.dirLine, "plugin_directory", "%q is a symlink; name the real directory (a plugin directory must not be a symlink)", r.PluginDir)
		case !fi.IsDir():
			f.errorf(p.dirLine, "plugin_directory", "%q is not a directory", r.PluginDir)
		}
		r.PluginDir = filepath.Clean(dir)
	}
	if len(r.Catalog) > 0 && r.PluginDir == "" {
		f.errorf(p.plugLine, "plugins", "third-party plugins need plugin_directory, the directory their commands are in")
	}
}

// checkHeaders reports two identity headers with the same name (header
// names ignore case) at the key that was written: the later one when both
// were, otherwise the one that takes the other's default (a header whose
// value was refused, and reported, keeps its default).
func (p *realmdParser) checkHeaders() {
	h := p.r.Headers
	hs := []struct{ key, name string }{
		{"headers.user", h.User}, {"headers.roles", h.Roles}, {"headers.backend_roles", h.BackendRoles},
	}
	for i, b := range hs {
		for _, a := range hs[:i] {
			if !strings.EqualFold(a.name, b.name) {
				continue
			}
			posA, setA := p.seen[a.key], p.headerSet[a.key]
			posB, setB := p.seen[b.key], p.headerSet[b.key]
			switch {
			case setA && setB:
				if posA.Line > posB.Line {
					a, b, posA, posB = b, a, posB, posA
				}
				p.f.errorf(posB.Line, b.key, "%q is already %s (line %d); each identity header needs its own name", b.name, a.key, posA.Line)
			case setB:
				p.f.errorf(posB.Line, b.key, "%q is already the default of %s; each identity header needs its own name", b.name, a.key)
			default:
				p.f.errorf(posA.Line, a.key, "%q is already the default of %s; each identity header needs its own name", a.name, b.key)
			}
			break
		}
	}
}

// validHeaderName reports whether s is an HTTP header name (an RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validListen checks a host:port listen address.
func validListen(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && !hostnameRE.MatchString(host) {
		return fmt.Errorf("%q is neither an IP address nor a host name", host)
	}
	return nil
}
