package basic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/realmd/realmd/sdk"
)

// Config is the configuration of the internal backend and authorizer. realmd
// passes the users of internal_users.yml and the node's password hashing
// settings inside the instance config; the domain's own `config:` map,
// normally empty, is merged in.
type Config struct {
	// Users are the internal users, in file order.
	Users []User
	// PasswordHashing is plugins.security.password.hashing.*. realmd
	// verifies every supported format whatever the algorithm.
	PasswordHashing HashOptions
}

// User is one internal user.
type User struct {
	// Name is matched case-sensitively.
	Name string
	// Hash is a bcrypt, PBKDF2 or Argon2 hash; empty means the user exists
	// (for authorization) but can never log in.
	Hash          string
	BackendRoles  []string
	SecurityRoles []string
	// Attributes are exposed as attr.internal.<key>.
	Attributes map[string]string
}

// userJSON is a user as it crosses the wire in the instance config.
type userJSON struct {
	Name          string         `json:"name"`
	Hash          string         `json:"hash"`
	BackendRoles  []string       `json:"backend_roles"`
	SecurityRoles []string       `json:"security_roles"`
	Attributes    map[string]any `json:"attributes"`
}

// ReadConfig reads the internal database's config from cfg and records every
// problem with cfg.Problem: a user without a name or with a duplicate name,
// attributes that are not scalars, a hash in no supported format (at
// users[i].hash, naming the user) and invalid password hashing settings.
func ReadConfig(cfg *sdk.Config) Config {
	d := DefaultHashOptions()
	c := Config{PasswordHashing: HashOptions{
		Algorithm: cfg.String("password_hashing.algorithm", d.Algorithm),
		BCrypt: BCryptOptions{
			Rounds: cfg.Int("password_hashing.bcrypt.rounds", d.BCrypt.Rounds),
			Minor:  cfg.String("password_hashing.bcrypt.minor", d.BCrypt.Minor),
		},
		PBKDF2: PBKDF2Options{
			Function:   cfg.String("password_hashing.pbkdf2.function", d.PBKDF2.Function),
			Iterations: cfg.Int("password_hashing.pbkdf2.iterations", d.PBKDF2.Iterations),
			Length:     cfg.Int("password_hashing.pbkdf2.length", d.PBKDF2.Length),
		},
		Argon2: Argon2Options{
			Memory:      cfg.Int("password_hashing.argon2.memory", d.Argon2.Memory),
			Iterations:  cfg.Int("password_hashing.argon2.iterations", d.Argon2.Iterations),
			Parallelism: cfg.Int("password_hashing.argon2.parallelism", d.Argon2.Parallelism),
			Length:      cfg.Int("password_hashing.argon2.length", d.Argon2.Length),
			Type:        cfg.String("password_hashing.argon2.type", d.Argon2.Type),
			Version:     cfg.Int("password_hashing.argon2.version", d.Argon2.Version),
		},
	}}
	for _, p := range c.PasswordHashing.problems() {
		cfg.Problem("password_hashing."+p.key, "%s", p.msg)
	}

	var raw []json.RawMessage
	if !cfg.Has("users") || !cfg.Decode("users", &raw) {
		return c
	}
	seen := map[string]bool{}
	for i, r := range raw {
		key := fmt.Sprintf("users[%d]", i)
		u, ok := decodeUser(cfg, key, r)
		if !ok {
			continue
		}
		switch {
		case u.Name == "":
			cfg.Problem(key+".name", "is required")
			continue
		case seen[u.Name]:
			cfg.Problem(key+".name", "user %q is listed twice", u.Name)
			continue
		}
		seen[u.Name] = true
		if u.Hash != "" {
			// A string of no known format (OpenSearch's test files hold
			// placeholders) leaves the user unable to log in, as in
			// OpenSearch; realmd check warns about it. A hash of a known
			// format with bad parameters is an operator's mistake: refuse it.
			if _, err := parseHash(u.Hash); errors.Is(err, errUnrecognised) {
				cfg.Warn(key+".hash", "user %q can never log in with a password: the hash is not a bcrypt, PBKDF2 or Argon2 hash realmd can verify; make one with `realmd hash`", u.Name)
			} else if err != nil {
				cfg.Problem(key+".hash", "user %q: %v", u.Name, err)
			}
		}
		c.Users = append(c.Users, u)
	}
	return c
}

// decodeUser reads one user strictly: unknown fields and attributes that
// are not scalars are problems, as in OpenSearch's internal_users.yml.
func decodeUser(cfg *sdk.Config, key string, raw json.RawMessage) (User, bool) {
	var j userJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		cfg.Problem(key, "%v", err)
		return User{}, false
	}
	u := User{Name: j.Name, Hash: j.Hash, BackendRoles: j.BackendRoles, SecurityRoles: j.SecurityRoles}
	ok := true
	keys := make([]string, 0, len(j.Attributes))
	for k := range j.Attributes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if j.Attributes[k] == nil {
			continue // YAML null is absent
		}
		s, scalar := sdk.ScalarString(j.Attributes[k])
		if !scalar {
			cfg.Problem(key+".attributes."+k, "must be a string, number or boolean")
			ok = false
			continue
		}
		if u.Attributes == nil {
			u.Attributes = map[string]string{}
		}
		u.Attributes[k] = s
	}
	return u, ok
}
