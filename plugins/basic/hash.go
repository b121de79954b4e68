package basic

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Hash algorithms, as named by OpenSearch's
// plugins.security.password.hashing.algorithm.
const (
	BCrypt = "bcrypt"
	PBKDF2 = "pbkdf2"
	Argon2 = "argon2"
)

// Salt lengths OpenSearch uses when it hashes a password.
const (
	pbkdf2SaltBytes = 128
	argon2SaltBytes = 32
)

// HashOptions are the parameters of a new password hash, with OpenSearch's
// names (plugins.security.password.hashing.*). Zero fields take the
// defaults of DefaultHashOptions.
type HashOptions struct {
	// Algorithm is bcrypt, pbkdf2 or argon2.
	Algorithm string
	BCrypt    BCryptOptions
	PBKDF2    PBKDF2Options
	Argon2    Argon2Options
}

// BCryptOptions: Rounds is the cost (4 to 31); Minor is the version letter
// A, B or Y ($2a$, $2b$, $2y$).
type BCryptOptions struct {
	Rounds int
	Minor  string
}

// PBKDF2Options: Function is SHA1, SHA224, SHA256, SHA384 or SHA512; Length
// is the derived key's length in bits.
type PBKDF2Options struct {
	Function   string
	Iterations int
	Length     int
}

// Argon2Options: Memory is in KiB; Length is the tag length in bytes; Type
// is argon2id or argon2i; Version must be 19.
type Argon2Options struct {
	Memory      int
	Iterations  int
	Parallelism int
	Length      int
	Type        string
	Version     int
}

// DefaultHashOptions are OpenSearch's defaults.
func DefaultHashOptions() HashOptions {
	return HashOptions{
		Algorithm: BCrypt,
		BCrypt:    BCryptOptions{Rounds: 12, Minor: "Y"},
		PBKDF2:    PBKDF2Options{Function: "SHA256", Iterations: 600000, Length: 256},
		Argon2:    Argon2Options{Memory: 65536, Iterations: 3, Parallelism: 1, Length: 32, Type: "argon2id", Version: 19},
	}
}

// withDefaults fills zero fields from DefaultHashOptions.
func (o HashOptions) withDefaults() HashOptions {
	d := DefaultHashOptions()
	or := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	ors := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	ors(&o.Algorithm, d.Algorithm)
	or(&o.BCrypt.Rounds, d.BCrypt.Rounds)
	ors(&o.BCrypt.Minor, d.BCrypt.Minor)
	ors(&o.PBKDF2.Function, d.PBKDF2.Function)
	or(&o.PBKDF2.Iterations, d.PBKDF2.Iterations)
	or(&o.PBKDF2.Length, d.PBKDF2.Length)
	or(&o.Argon2.Memory, d.Argon2.Memory)
	or(&o.Argon2.Iterations, d.Argon2.Iterations)
	or(&o.Argon2.Parallelism, d.Argon2.Parallelism)
	or(&o.Argon2.Length, d.Argon2.Length)
	ors(&o.Argon2.Type, d.Argon2.Type)
	or(&o.Argon2.Version, d.Argon2.Version)
	return o
}

// Validate reports every problem with o (after defaults), each named by its
// key below OpenSearch's plugins.security.password.hashing.
func (o HashOptions) Validate() error {
	var errs []error
	for _, p := range o.withDefaults().problems() {
		errs = append(errs, fmt.Errorf("%s: %s", p.key, p.msg))
	}
	return errors.Join(errs...)
}

// problems checks o as it is, without defaults.
func (o HashOptions) problems() []paramProblem {
	var out []paramProblem
	bad := func(key, format string, args ...any) {
		out = append(out, paramProblem{key, fmt.Sprintf(format, args...)})
	}
	switch strings.ToLower(o.Algorithm) {
	case BCrypt, PBKDF2, Argon2:
	default:
		bad("algorithm", "must be bcrypt, pbkdf2 or argon2, not %q", o.Algorithm)
	}
	if o.BCrypt.Rounds < bcrypt.MinCost || o.BCrypt.Rounds > bcrypt.MaxCost {
		bad("bcrypt.rounds", "must be between %d and %d, not %d", bcrypt.MinCost, bcrypt.MaxCost, o.BCrypt.Rounds)
	}
	if _, ok := bcryptMinor(o.BCrypt.Minor); !ok {
		bad("bcrypt.minor", "must be A, B or Y, not %q", o.BCrypt.Minor)
	}
	if _, ok := hmacByName(o.PBKDF2.Function); !ok {
		bad("pbkdf2.function", "must be SHA1, SHA224, SHA256, SHA384 or SHA512, not %q", o.PBKDF2.Function)
	}
	if o.PBKDF2.Iterations < 1 {
		bad("pbkdf2.iterations", "must be positive, not %d", o.PBKDF2.Iterations)
	}
	if o.PBKDF2.Length < 8 || o.PBKDF2.Length%8 != 0 {
		bad("pbkdf2.length", "must be a positive multiple of 8 bits, not %d", o.PBKDF2.Length)
	}
	a := argon2Params{memory: o.Argon2.Memory, time: o.Argon2.Iterations, threads: o.Argon2.Parallelism, keyLen: o.Argon2.Length}
	for _, p := range a.problems() {
		bad("argon2."+p.key, "%s", p.msg)
	}
	if _, err := argon2Variant(o.Argon2.Type); err != nil {
		bad("argon2.type", "%v", err)
	}
	if o.Argon2.Version != argon2.Version {
		bad("argon2.version", "only version %d is supported, not %d", argon2.Version, o.Argon2.Version)
	}
	return out
}

// bcryptMinor maps OpenSearch's minor letter to the hash's version letter.
func bcryptMinor(minor string) (byte, bool) {
	switch strings.ToUpper(minor) {
	case "A":
		return 'a', true
	case "B":
		return 'b', true
	case "Y":
		return 'y', true
	}
	return 0, false
}

// argon2Variant maps an argon2 type name (argon2id, argon2i, any case).
func argon2Variant(typ string) (string, error) {
	switch t := strings.ToLower(typ); t {
	case "argon2id", "argon2i":
		return t, nil
	case "argon2d":
		return "", errors.New("argon2d is not supported (use argon2id or argon2i)")
	}
	return "", fmt.Errorf("must be argon2id or argon2i, not %q", typ)
}

// Hash hashes password in the format OpenSearch reads from internal_users.yml:
// bcrypt ($2y$12$...), PBKDF2 ($3$<(iterations<<32)|bits>$<salt>$<key>, with
// a 128-byte salt) or Argon2 (a PHC string, with a 32-byte salt). Zero
// options take OpenSearch's defaults. It fails for invalid options, an empty
// password, and a bcrypt password longer than 72 bytes.
func Hash(password []byte, opts HashOptions) (string, error) {
	if len(password) == 0 {
		return "", errors.New("hashing: the password is empty")
	}
	if err := opts.Validate(); err != nil {
		return "", fmt.Errorf("hashing: %w", err)
	}
	opts = opts.withDefaults()
	switch strings.ToLower(opts.Algorithm) {
	case PBKDF2:
		return hashPBKDF2(password, opts.PBKDF2)
	case Argon2:
		return hashArgon2(password, opts.Argon2)
	}
	return hashBCrypt(password, opts.BCrypt)
}

func hashBCrypt(password []byte, o BCryptOptions) (string, error) {
	h, err := bcrypt.GenerateFromPassword(password, o.Rounds)
	if err != nil {
		return "", fmt.Errorf("hashing with bcrypt: %w", err)
	}
	// x/crypto writes $2a$; the letter only names the version, the hash is
	// the same for passwords it accepts.
	h[2], _ = bcryptMinor(o.Minor)
	return string(h), nil
}

func hashPBKDF2(password []byte, o PBKDF2Options) (string, error) {
	fn, _ := hmacByName(o.Function)
	salt := make([]byte, pbkdf2SaltBytes)
	_, _ = rand.Read(salt) // never fails
	key, err := pbkdf2.Key(fn.new, string(password), salt, o.Iterations, o.Length/8)
	if err != nil {
		return "", fmt.Errorf("hashing with pbkdf2: %w", err)
	}
	params := int64(o.Iterations)<<32 | int64(o.Length)
	return "$" + strconv.Itoa(fn.code) + "$" + strconv.FormatInt(params, 10) + "$" +
		base64.StdEncoding.EncodeToString(salt) + "$" + base64.StdEncoding.EncodeToString(key), nil
}

func hashArgon2(password []byte, o Argon2Options) (string, error) {
	variant, _ := argon2Variant(o.Type)
	salt := make([]byte, argon2SaltBytes)
	_, _ = rand.Read(salt) // never fails
	p := argon2Params{variant: variant, memory: o.Memory, time: o.Iterations, threads: o.Parallelism, keyLen: o.Length, salt: salt}
	return p.encode(p.derive(password)), nil
}
