// Package core is the realmd daemon: it loads a config directory, runs every
// realm as a supervised plugin process, builds the pipeline for each config
// generation and serves the HTTP front door.
package core

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/sdk"
)

// PluginRef says how to start the plugin that serves one realm type.
type PluginRef struct {
	// Name is the plugin's name: a built-in ("basic") or a catalog entry.
	Name    string
	Builtin bool
	Path    string
	Args    []string
	Env     []string
	// Checksum is the pinned SHA-256 of Path, or nil.
	Checksum []byte
}

// Command returns a fresh command for one launch of the plugin.
func (r PluginRef) Command() *exec.Cmd {
	cmd := exec.Command(r.Path, r.Args...)
	cmd.Env = pluginEnv(os.Environ(), r.Env)
	return cmd
}

// pluginEnv is the environment a plugin starts with: the host variables a
// process needs (hostEnv), then the catalog entry's env, where NAME=value
// sets a variable and a bare NAME passes realmd's own value through.
// Everything else in realmd's environment stays out, secrets kept there
// for ${env.NAME} substitution first: realmd substitutes them into the
// config it sends, so no plugin needs them (found by review: every plugin
// saw all of them).
func pluginEnv(host, entry []string) []string {
	env := []string{} // never nil: nil would mean all of realmd's environment
	for _, kv := range host {
		if name, _, _ := strings.Cut(kv, "="); hostEnv(name) {
			env = append(env, kv)
		}
	}
	for _, e := range entry {
		if strings.Contains(e, "=") {
			env = append(env, e)
			continue
		}
		for _, kv := range host {
			if name, _, _ := strings.Cut(kv, "="); name == e {
				env = append(env, kv)
			}
		}
	}
	env, _ = WithSchedtrace(env)
	return env
}

// Schedtrace is the GODEBUG setting that keeps a Go plugin's runtime
// monitor thread (sysmon), and realmd's, out of its deep sleep. A plugin
// waits on realmd between messages, so under load its process goes wholly
// idle and busy again thousands of times a second; on each return Go wakes the
// monitor from deep sleep and has it poll every 20 µs until the process
// is idle again (go.dev/issue/18236 is about that tick). That polling was
// 13% of a JWT plugin's CPU under uncached load; with the monitor never in
// deep sleep it backs off to its 10 ms tick instead, and the plugin spent
// 15% less CPU per login, for 8% more uncached JWT logins through realmd
// (measured, see docs/architecture.md). The cost: an idle plugin's monitor
// wakes about 100 times a second instead of sleeping. Deep sleep is off
// whenever schedtrace is set; the setting also prints a line of scheduler
// state every schedtrace milliseconds, here every 24.8 days (the largest
// value), and once at start on a machine up for longer than that: it
// reaches realmd's log at debug (sdk's schedState). `realmd serve` gets
// the same setting by re-executing itself with it (cmd/realmd).
const Schedtrace = "schedtrace=2147483647"

// WithSchedtrace adds Schedtrace to the GODEBUG of env, the one that
// counts (exec keeps the last of a repeated variable), unless that sets
// schedtrace already: an operator's GODEBUG=schedtrace=0 turns it off.
// added reports whether it did. env is changed in place.
func WithSchedtrace(env []string) (out []string, added bool) {
	for i := len(env) - 1; i >= 0; i-- {
		name, value, _ := strings.Cut(env[i], "=")
		if name != "GODEBUG" {
			continue
		}
		for _, setting := range strings.Split(value, ",") {
			if key, _, _ := strings.Cut(setting, "="); key == "schedtrace" {
				return env, false
			}
		}
		if value != "" {
			value += ","
		}
		env[i] = "GODEBUG=" + value + Schedtrace
		return env, true
	}
	return append(env, "GODEBUG="+Schedtrace), true
}

// hostEnv reports whether a plugin inherits realmd's variable name: paths,
// locale, time zone, TLS roots, proxies, Go runtime settings, Kerberos
// files, and realmd's own REALMD_* (the plugin log level among them).
func hostEnv(name string) bool {
	switch name {
	case "PATH", "HOME", "TMPDIR", "TZ", "LANG", "LANGUAGE",
		"SSL_CERT_FILE", "SSL_CERT_DIR",
		"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
		"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG", "GOTRACEBACK",
		"KRB5_CONFIG", "KRB5_KTNAME", "KRB5_CLIENT_KTNAME", "KRB5CCNAME":
		return true
	}
	return strings.HasPrefix(name, "LC_") || strings.HasPrefix(name, "REALMD_")
}

// Catalog resolves realm type names to plugins: first the built-ins served
// by `realmd plugin NAME`, then realmd.yml's pinned catalog, then
// executables named after the type in the plugin directory.
type Catalog struct {
	builtins map[sdk.Role]map[string]PluginRef
	realmd   config.Realmd
}

// NewCatalog indexes the built-in plugins; exe is the realmd executable that
// serves them.
func NewCatalog(builtins []sdk.Plugin, exe string, r config.Realmd) *Catalog {
	c := &Catalog{builtins: map[sdk.Role]map[string]PluginRef{}, realmd: r}
	add := func(role sdk.Role, p sdk.Plugin, types []string) {
		if c.builtins[role] == nil {
			c.builtins[role] = map[string]PluginRef{}
		}
		for _, t := range types {
			c.builtins[role][t] = PluginRef{Name: p.Name, Builtin: true, Path: exe, Args: []string{"plugin", p.Name}}
		}
	}
	for _, p := range builtins {
		add(sdk.RoleAuthenticator, p, keys(p.Authenticators))
		add(sdk.RoleBackend, p, keys(p.Backends))
		add(sdk.RoleAuthorizer, p, keys(p.Authorizers))
	}
	return c
}

func keys[T any](m map[string]T) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// notIncluded explains OpenSearch types that no built-in serves.
var notIncluded = map[string]string{
	"saml": "SAML is a browser redirect flow between OpenSearch Dashboards and the identity provider; " +
		"realmd answers per request and does not run that flow. For the tokens an identity provider issues, " +
		"use a jwt domain with jwks_uri set to the provider's key set",
	"kerberos":       "the kerberos realm is not part of this build yet",
	"clientcert":     "the clientcert (PKI) realm is not part of this build yet",
	"proxy":          "the proxy realm is not part of this build yet",
	"extended-proxy": "the proxy realm is not part of this build yet",
	"openid":         "the openid realm is not part of this build yet",
}

// Resolve finds the plugin serving typ in role. The error says why none
// does and what to do about it.
func (c *Catalog) Resolve(role sdk.Role, typ string) (PluginRef, error) {
	if ref, ok := c.builtins[role][typ]; ok {
		return ref, nil
	}
	if e, ok := c.realmd.Catalog[typ]; ok {
		sum, err := hex.DecodeString(e.SHA256)
		if err != nil {
			return PluginRef{}, fmt.Errorf("catalog entry %q: sha256: %w", typ, err)
		}
		if len(sum) == 0 {
			sum = nil
		}
		if link := symlinkIn(c.realmd.PluginDir, e.Command); link != "" {
			return PluginRef{}, fmt.Errorf("catalog entry %q: plugins.%s.command in realmd.yml names %s, which is a symlink: "+
				"point command at the real file in plugin_directory, or copy the file in (a pinned plugin must not be a symlink)", typ, typ, link)
		}
		return PluginRef{Name: typ, Path: filepath.Join(c.realmd.PluginDir, e.Command), Args: e.Args, Env: e.Env, Checksum: sum}, nil
	}
	plainName := !strings.ContainsAny(typ, `/\`) && typ != "." && typ != ".."
	notPlugin := "" // why the file named typ in plugin_directory is no plugin
	if c.realmd.PluginDir != "" && plainName {
		path := filepath.Join(c.realmd.PluginDir, typ)
		runnable, why := pluginFile(path)
		if runnable {
			return PluginRef{Name: typ, Path: path}, nil
		}
		notPlugin = why
	}
	if why, ok := notIncluded[typ]; ok {
		if c.servesOtherRole(role, typ) {
			return PluginRef{}, fmt.Errorf("type %q cannot be used as %s", typ, role)
		}
		return PluginRef{}, fmt.Errorf("type %q is not supported: %s", typ, why)
	}
	if c.servesOtherRole(role, typ) {
		return PluginRef{}, fmt.Errorf("type %q cannot be used as %s", typ, role)
	}
	hint := "name a built-in type (" + strings.Join(keys(c.builtins[role]), ", ") + ")"
	if c.realmd.PluginDir == "" {
		hint += ", or set plugin_directory in realmd.yml for third-party plugins"
	} else {
		hint += fmt.Sprintf(", or put an executable named %q in %s", typ, c.realmd.PluginDir)
		if notPlugin != "" {
			hint += "; " + notPlugin
		}
	}
	return PluginRef{}, fmt.Errorf("unknown %s type %q: %s", role, typ, hint)
}

// pluginFile reports whether path is a plugin executable (a regular file
// with an x bit) and, when it is there but is none, why ("" when it is
// missing or runnable).
func pluginFile(path string) (runnable bool, why string) {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return false, ""
	case !fi.Mode().IsRegular():
		return false, path + " is there, but is not a regular file"
	case fi.Mode()&0o111 == 0:
		return false, path + " is there, but is not executable: chmod +x it"
	}
	return true, ""
}

// symlinkIn returns the first element of the relative path rel, below dir,
// that is a symlink, or "". A pinned plugin must not be reached through one:
// the link could be pointed elsewhere after the checksum was written. A
// missing element ends the walk; starting the plugin reports it.
func symlinkIn(dir, rel string) string {
	path := dir
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		path = filepath.Join(path, part)
		fi, err := os.Lstat(path)
		if err != nil {
			return ""
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return path
		}
	}
	return ""
}

func (c *Catalog) servesOtherRole(role sdk.Role, typ string) bool {
	for r, m := range c.builtins {
		if _, ok := m[typ]; ok && r != role {
			return true
		}
	}
	return false
}
