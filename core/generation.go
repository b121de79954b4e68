package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"golang.org/x/sync/errgroup"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/pipeline"
	"github.com/realmd/realmd/sdk"
)

// Generation is one loaded config: its settings, its plugin instances and
// the pipeline built on them. Requests always run on exactly one generation.
type Generation struct {
	ID       uint64
	Settings *config.Settings
	Pipeline *pipeline.Pipeline
	LoadedAt time.Time

	instances []*Instance // acquired from the pool; released by close
	pool      *instancePool
	xff       *xffResolver
}

// changedSince names what changed from old to g, for the reload log: the
// config files whose content differs, by name (one added or removed
// included), and the files both depend on whose content differs, by path
// (what instances read, and third-party plugin executables). It compares
// the sums taken when each generation was built, and reads no file.
func (g *Generation) changedSince(old *Generation) (configFiles, files []string) {
	configFiles = []string{} // logged as [] rather than null
	was, now := old.Settings.FileSums, g.Settings.FileSums
	for _, name := range keys(union(was, now)) {
		a, inOld := was[name]
		b, inNew := now[name]
		if inOld != inNew || a != b {
			configFiles = append(configFiles, name)
		}
	}
	files = []string{}
	wasFiles, nowFiles := old.dependedSums(), g.dependedSums()
	for _, path := range keys(nowFiles) {
		if sums, ok := wasFiles[path]; ok && !maps.Equal(sums, nowFiles[path]) {
			files = append(files, path)
		}
	}
	return configFiles, files
}

// dependedSums is the set of sums recorded for each file g depends on, by
// path: instances may hold different sums of one file (one reused from an
// older generation), and a third-party executable's sum is its spec's.
func (g *Generation) dependedSums() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	add := func(path, sum string) {
		if out[path] == nil {
			out[path] = map[string]bool{}
		}
		out[path][sum] = true
	}
	for _, in := range g.instances {
		for path, sum := range in.fileSums {
			add(path, sum)
		}
		if !in.spec.Plugin.Builtin {
			add(in.spec.Plugin.Path, in.spec.BinarySum)
		}
	}
	return out
}

func union(a, b map[string]string) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// filesChanged reports whether a file an instance of g read, or a
// third-party plugin's executable, has changed.
func (g *Generation) filesChanged() bool {
	for _, in := range g.instances {
		if in.FilesChanged() || (!in.spec.Plugin.Builtin && fileSum(in.spec.Plugin.Path) != in.spec.BinarySum) {
			return true
		}
	}
	return false
}

// watchedFiles lists the files g depends on outside its config directory's
// own files: what its instances read, and third-party plugin executables.
func (g *Generation) watchedFiles() []string {
	seen := map[string]bool{}
	for _, in := range g.instances {
		for _, f := range in.Files() {
			seen[f] = true
		}
		if !in.spec.Plugin.Builtin {
			seen[in.spec.Plugin.Path] = true
		}
	}
	return keys(seen)
}

// Instances lists the generation's plugin instances in config order.
func (g *Generation) Instances() []*Instance { return g.instances }

// close drains the pipeline, then releases the generation's instances; an
// instance no newer generation uses is stopped. They are released at once:
// stopping a plugin that does not answer takes its grace period (see
// sdk.Client.Kill), and one after another, several would add theirs up.
func (g *Generation) close() {
	g.Pipeline.Close()
	var wg sync.WaitGroup
	for _, in := range g.instances {
		wg.Go(func() { g.pool.release(in) })
	}
	wg.Wait()
}

// component is one plugin instance a generation needs, before it is started.
type component struct {
	spec InstanceSpec
	comp config.Component
}

// plan lists the instances settings need, resolving each type in the catalog,
// with each third-party executable's checksum (BinarySum). Every
// unresolvable type is reported at once.
func plan(s *config.Settings, cat *Catalog) ([]component, config.Problems) {
	comps, problems := resolveComponents(s, cat)
	for i := range comps {
		if ref := comps[i].spec.Plugin; !ref.Builtin {
			comps[i].spec.BinarySum = fileSum(ref.Path) // a replaced executable restarts its instances
		}
	}
	return comps, problems
}

// resolveComponents is plan without the checksums: it reads no executable,
// only resolves each type as a build would. An unchanged reload needs no
// more, as filesChanged has just summed the executables.
func resolveComponents(s *config.Settings, cat *Catalog) ([]component, config.Problems) {
	var out []component
	var problems config.Problems
	add := func(name string, role sdk.Role, c config.Component) {
		if c.Type == "noop" && role != sdk.RoleAuthenticator {
			return
		}
		ref, err := cat.Resolve(role, c.Type)
		if err != nil {
			problems = append(problems, config.Problem{File: c.Pos.File, Line: c.Pos.Line, Key: c.Path + ".type", Message: err.Error()})
			return
		}
		raw, err := instanceConfig(s, role, c)
		if err != nil {
			problems = append(problems, config.Problem{File: c.Pos.File, Line: c.Pos.Line, Key: c.Path + ".config", Message: err.Error()})
			return
		}
		spec := InstanceSpec{Name: name, Role: role, Type: c.Type, Plugin: ref, Config: raw, Dir: s.Dir}
		out = append(out, component{spec: spec, comp: c})
	}
	for _, d := range s.Security.Authc {
		add("authc."+d.Name+".http_authenticator", sdk.RoleAuthenticator, d.Authenticator)
		add("authc."+d.Name+".authentication_backend", sdk.RoleBackend, d.Backend)
	}
	for _, d := range s.Security.Authz {
		add("authz."+d.Name+".authorization_backend", sdk.RoleAuthorizer, d.Backend)
	}
	return out, problems
}

// internalUser is how the internal realm receives internal_users.yml.
type internalUser struct {
	Name          string            `json:"name"`
	Hash          string            `json:"hash,omitempty"`
	BackendRoles  []string          `json:"backend_roles,omitempty"`
	SecurityRoles []string          `json:"security_roles,omitempty"`
	Attributes    map[string]string `json:"attributes,omitempty"`
}

// instanceConfig is the JSON config one instance receives: its `config:`
// map, plus the internal users and hashing settings for the internal realm.
func instanceConfig(s *config.Settings, role sdk.Role, c config.Component) ([]byte, error) {
	m := make(map[string]any, len(c.Config)+2)
	for k, v := range c.Config {
		m[k] = v
	}
	if receivesUsers(role, c) {
		if _, clash := m["users"]; clash {
			return nil, errors.New(`"users" is set by realmd from internal_users.yml; remove it here`)
		}
		users := make([]internalUser, len(s.Users))
		for i, u := range s.Users {
			users[i] = internalUser{Name: u.Name, Hash: u.Hash, BackendRoles: u.BackendRoles, SecurityRoles: u.SecurityRoles, Attributes: u.Attributes}
		}
		m["users"] = users
		h := s.Realmd.PasswordHashing
		m["password_hashing"] = map[string]any{
			"algorithm": h.Algorithm,
			"bcrypt":    map[string]any{"rounds": h.BcryptRounds, "minor": h.BcryptMinor},
			"pbkdf2":    map[string]any{"function": h.PBKDF2Function, "iterations": h.PBKDF2Iterations, "length": h.PBKDF2Length},
			"argon2": map[string]any{"memory": h.Argon2Memory, "iterations": h.Argon2Iterations, "parallelism": h.Argon2Parallelism,
				"length": h.Argon2Length, "type": h.Argon2Type, "version": h.Argon2Version},
		}
	}
	return json.Marshal(m)
}

// receivesUsers reports whether the instance of c in role is the internal
// realm's backend or authorizer, which realmd gives internal_users.yml's
// users as its config's "users" list.
func receivesUsers(role sdk.Role, c config.Component) bool {
	return c.Type == "internal" && role != sdk.RoleAuthenticator
}

var userIndex = regexp.MustCompile(`^users\[(\d+)\]`)

// problemsOf turns a plugin's refusal into config problems at file:line.
func problemsOf(s *config.Settings, c component, ps []sdk.Problem) config.Problems {
	var out config.Problems
	for _, p := range ps {
		prob := config.Problem{File: c.comp.Pos.File, Line: c.comp.Line(p.Key), Key: c.comp.Path + ".config", Message: p.Message}
		if p.Key != "" {
			prob.Key += "." + p.Key
		}
		// The internal realm's users come from internal_users.yml; another
		// realm's own users[N] key is in its config: map.
		if m := userIndex.FindStringSubmatch(p.Key); m != nil && receivesUsers(c.spec.Role, c.comp) {
			if i, _ := strconv.Atoi(m[1]); i < len(s.Users) {
				u, field := s.Users[i], strings.TrimPrefix(p.Key, m[0])
				line := u.Pos.Line
				if field == ".hash" && u.HashLine > 0 {
					line = u.HashLine
				}
				prob = config.Problem{File: u.Pos.File, Line: line, Key: u.Name + field, Message: p.Message}
			}
		}
		out = append(out, prob)
	}
	return out
}

// startProblem places a plugin that did not start (its process would not
// run or answer, or serves another type) at its domain's type key; a
// pinned plugin whose executable no longer has its checksum is placed at
// the pin, plugins.<type>.sha256 in realmd.yml, at the entry's line.
func startProblem(s *config.Settings, c component, err error) config.Problem {
	if e, ok := s.Realmd.Catalog[c.spec.Plugin.Name]; ok && !c.spec.Plugin.Builtin && errors.Is(err, sdk.ErrChecksumMismatch) {
		file := e.Pos.File
		if file == "" {
			file = config.RealmdFile
		}
		return config.Problem{File: file, Line: e.Pos.Line, Key: "plugins." + e.Name + ".sha256", Message: err.Error()}
	}
	return config.Problem{File: c.comp.Pos.File, Line: c.comp.Pos.Line, Key: c.comp.Path + ".type", Message: err.Error()}
}

// distinctProblems is ps without repeats, in order: two instances that read
// the same file (the internal realm as backend and as authorizer, both
// given internal_users.yml) report the same problem with it.
func distinctProblems(ps config.Problems) config.Problems {
	seen := make(map[string]bool, len(ps))
	var out config.Problems
	for _, p := range ps {
		if k := p.String(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// warningsOf turns a plugin's warnings into config warnings at file:line.
func warningsOf(s *config.Settings, c component, ws []sdk.Problem) config.Problems {
	out := problemsOf(s, c, ws)
	for i := range out {
		out[i].Warning = true
	}
	return out
}

// buildGeneration starts (or reuses from the pool) every instance settings
// need, in parallel, and builds the pipeline. On failure nothing it started
// is left running and the error is config.Problems where it can be. On
// success it logs the warnings of the instances it started (not of those
// it reused, which were logged when they started), each at file:line.
func buildGeneration(ctx context.Context, id uint64, s *config.Settings, cat *Catalog, pool *instancePool, logger hclog.Logger) (*Generation, error) {
	if s.Security.DisableRestAuth {
		return nil, config.Problems{{File: config.ConfigFile, Key: "config.dynamic.disable_rest_auth",
			Message: "true would let every request through unauthenticated; realmd refuses it. Remove the key or set it to false"}}
	}
	comps, problems := plan(s, cat)
	if len(problems) > 0 {
		return nil, problems
	}
	g := &Generation{ID: id, Settings: s, LoadedAt: time.Now(), pool: pool, instances: make([]*Instance, len(comps))}
	var mu sync.Mutex
	var eg errgroup.Group
	for i, c := range comps {
		eg.Go(func() error {
			in, err := pool.acquire(ctx, c.spec, logger)
			var cp *ConfigProblems
			if errors.As(err, &cp) {
				mu.Lock()
				problems = append(problems, problemsOf(s, c, cp.Problems)...)
				problems = append(problems, warningsOf(s, c, cp.Warnings)...)
				mu.Unlock()
				return nil
			}
			if err != nil && ctx.Err() == nil { // a cancelled build is no config problem
				mu.Lock()
				problems = append(problems, startProblem(s, c, err))
				mu.Unlock()
				return nil
			}
			g.instances[i] = in
			return err
		})
	}
	err := eg.Wait()
	if err == nil && len(problems) > 0 {
		err = problems
	}
	if err != nil {
		for _, in := range g.instances {
			if in != nil {
				pool.release(in)
			}
		}
		return nil, err
	}
	p, err := newPipeline(s, comps, g.instances, logger)
	if err != nil {
		for _, in := range g.instances {
			pool.release(in)
		}
		return nil, err
	}
	g.Pipeline = p
	var warnings config.Problems
	for i, in := range g.instances {
		warnings = append(warnings, warningsOf(s, comps[i], in.newWarnings())...)
	}
	for _, w := range distinctProblems(warnings) { // instances that share a file warn alike
		logger.Warn("config warning", "problem", w.String())
	}
	return g, nil
}

// newPipeline wires started instances into a pipeline.
func newPipeline(s *config.Settings, comps []component, ins []*Instance, logger hclog.Logger) (*pipeline.Pipeline, error) {
	byName := map[string]*Instance{}
	for i, c := range comps {
		byName[c.spec.Name] = ins[i]
	}
	cfg := pipeline.Config{
		Anonymous: s.Security.AnonymousAuthEnabled && !s.Realmd.DisableAnonymous,
		CacheTTL:  s.Realmd.CacheTTL,
		QueueSize: s.Realmd.QueueSize,
		Timeout:   s.Realmd.RequestTimeout,
		Limits:    failureLimits(s),
		Logger:    logger.Named("pipeline"),
	}
	for _, d := range s.Security.Authc {
		authn := byName["authc."+d.Name+".http_authenticator"]
		pd := pipeline.Domain{
			Name: d.Name, Order: d.Order, Challenge: d.Challenge, AuthenticatorType: d.Authenticator.Type,
			Authenticator: authn, Inputs: authn.Configured().Inputs, ChallengeResponse: authn.Configured().Challenge,
			BackendClass: d.Backend.Class,
		}
		if b, ok := byName["authc."+d.Name+".authentication_backend"]; ok {
			pd.Backend = b
		}
		cfg.Domains = append(cfg.Domains, pd)
	}
	for _, d := range s.Security.Authz {
		if b, ok := byName["authz."+d.Name+".authorization_backend"]; ok {
			cfg.Authz = append(cfg.Authz, pipeline.AuthzDomain{Name: d.Name, Backend: b})
		}
	}
	mapper, err := newRoleMapper(s)
	if err != nil {
		return nil, err
	}
	cfg.Mapper = mapper
	return pipeline.New(cfg), nil
}

func newRoleMapper(s *config.Settings) (*pipeline.RoleMapper, error) {
	mc := pipeline.MapperConfig{
		Mode:        s.Realmd.RolesMappingResolution,
		HostsMode:   s.Security.HostsResolverMode,
		HiddenRoles: map[string]bool{},
		LookupAddr:  addrLookups.Lookup,
	}
	if len(s.Roles) > 0 {
		mc.KnownRoles = s.Roles
	}
	for _, m := range s.RoleMappings {
		mc.Mappings = append(mc.Mappings, pipeline.Mapping{Role: m.Role, Users: m.Users, BackendRoles: m.BackendRoles, AndBackendRoles: m.AndBackendRoles, Hosts: m.Hosts})
		if m.Hidden {
			mc.HiddenRoles[m.Role] = true
		}
	}
	m, err := pipeline.NewRoleMapper(mc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.RolesMappingFile, err)
	}
	return m, nil
}
