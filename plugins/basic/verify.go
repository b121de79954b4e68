package basic

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// verifier checks passwords against one stored hash. verify takes the same
// time whatever the password; it is safe for concurrent use.
type verifier interface {
	verify(password []byte) bool
}

// dummyHash is checked for unknown users when no user has a hash: a bcrypt
// hash (cost 12, OpenSearch's default) of a random password nobody knows.
const dummyHash = "$2y$12$IlcsiSTUz.DmkLn7NYw3I.rMuXM5bFNv3wn7Ekc7kqVytvSVlcDvi"

// errUnrecognised names the formats a hash may have.
var errUnrecognised = errors.New("not a bcrypt ($2a$, $2b$, $2y$), PBKDF2 ($<1-5>$<params>$<salt>$<key>) or Argon2 ($argon2id$, $argon2i$) hash")

// parseHash detects the format of a stored hash and checks its parameters.
// Unlike OpenSearch, which verifies only hashes of its configured algorithm,
// every supported format verifies.
func parseHash(s string) (verifier, error) {
	switch {
	case strings.HasPrefix(s, "$2") && len(s) > 2 && s[2] != '$': // $2$ is PBKDF2 with SHA224
		return parseBCrypt(s)
	case strings.HasPrefix(s, "$argon2"):
		return parseArgon2(s)
	case len(s) > 2 && s[0] == '$' && s[2] == '$' && s[1] >= '0' && s[1] <= '9':
		return parsePBKDF2(s)
	}
	return nil, errUnrecognised
}

// bcryptVerifier is a $2a$, $2b$ or $2y$ hash.
type bcryptVerifier []byte

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func parseBCrypt(s string) (verifier, error) {
	// $2y$12$ + 22 characters of salt + 31 of hash.
	if len(s) != 60 || s[3] != '$' || s[6] != '$' || !strings.ContainsRune("aby", rune(s[2])) {
		return nil, errUnrecognised
	}
	for _, c := range s[7:] {
		if !strings.ContainsRune(bcryptAlphabet, c) {
			return nil, errors.New("bcrypt hash has a character outside its alphabet")
		}
	}
	if _, err := bcrypt.Cost([]byte(s)); err != nil {
		return nil, fmt.Errorf("bcrypt hash: %w", err)
	}
	return bcryptVerifier(s), nil
}

func (h bcryptVerifier) verify(password []byte) bool {
	return bcrypt.CompareHashAndPassword(h, password) == nil // compares in constant time
}

// hmacFunc is one of PBKDF2's pseudo-random functions, with password4j's code.
type hmacFunc struct {
	code int
	name string
	new  func() hash.Hash
}

var hmacFuncs = []hmacFunc{
	{1, "SHA1", sha1.New},
	{2, "SHA224", sha256.New224},
	{3, "SHA256", sha256.New},
	{4, "SHA384", sha512.New384},
	{5, "SHA512", sha512.New},
}

func hmacByName(name string) (hmacFunc, bool) {
	for _, f := range hmacFuncs {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return hmacFunc{}, false
}

// pbkdf2Verifier is password4j's compressed PBKDF2 format:
// $<function code>$<(iterations<<32) | key bits>$<base64 salt>$<base64 key>.
type pbkdf2Verifier struct {
	fn         hmacFunc
	iterations int
	salt, key  []byte
}

func parsePBKDF2(s string) (verifier, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 5 || parts[0] != "" {
		return nil, errUnrecognised
	}
	code, err := strconv.Atoi(parts[1])
	if err != nil || code < 1 || code > len(hmacFuncs) {
		return nil, fmt.Errorf("PBKDF2 hash: unknown function %q (1 to 5 are SHA1 to SHA512)", parts[1])
	}
	params, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return nil, errors.New("PBKDF2 hash: parameters are not a number")
	}
	// As password4j reads them: the high and low 32 bits, as Java ints.
	iterations, bits := int(int32(params>>32)), int(int32(params))
	salt, err1 := decodeBase64(parts[3])
	key, err2 := decodeBase64(parts[4])
	switch {
	case iterations < 1:
		return nil, fmt.Errorf("PBKDF2 hash: %d iterations", iterations)
	case bits < 8:
		return nil, fmt.Errorf("PBKDF2 hash: key length of %d bits", bits)
	case err1 != nil || len(salt) == 0:
		return nil, errors.New("PBKDF2 hash: salt is not base64")
	case err2 != nil || len(key) != bits/8:
		return nil, fmt.Errorf("PBKDF2 hash: key is not %d bytes of base64", bits/8)
	}
	return &pbkdf2Verifier{fn: hmacFuncs[code-1], iterations: iterations, salt: salt, key: key}, nil
}

func (v *pbkdf2Verifier) verify(password []byte) bool {
	key, err := pbkdf2.Key(v.fn.new, string(password), v.salt, v.iterations, len(v.key))
	return err == nil && subtle.ConstantTimeCompare(key, v.key) == 1
}

// decodeBase64 accepts standard base64 with or without padding.
func decodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// argon2Params is an Argon2 hash or the parameters of a new one.
type argon2Params struct {
	variant                       string // argon2id or argon2i
	memory, time, threads, keyLen int
	salt, key                     []byte
}

// maxArgon2Memory bounds the memory (KiB) one verification may allocate.
const maxArgon2Memory = 4 << 20 // 4 GiB

type paramProblem struct{ key, msg string }

// problems checks what x/crypto/argon2 and RFC 9106 require.
func (p argon2Params) problems() []paramProblem {
	var out []paramProblem
	if p.time < 1 {
		out = append(out, paramProblem{"iterations", fmt.Sprintf("must be positive, not %d", p.time)})
	}
	if p.threads < 1 || p.threads > 255 {
		out = append(out, paramProblem{"parallelism", fmt.Sprintf("must be between 1 and 255, not %d", p.threads)})
	}
	if p.memory < 8*max(p.threads, 1) || p.memory > maxArgon2Memory {
		out = append(out, paramProblem{"memory", fmt.Sprintf("must be between 8 KiB per lane and %d KiB, not %d", maxArgon2Memory, p.memory)})
	}
	if p.keyLen < 4 {
		out = append(out, paramProblem{"length", fmt.Sprintf("must be at least 4 bytes, not %d", p.keyLen)})
	}
	return out
}

func parseArgon2(s string) (verifier, error) {
	parts := strings.Split(s, "$")
	if len(parts) == 5 {
		return nil, errors.New("argon2 hash without a version is version 16, which is not supported")
	}
	if len(parts) != 6 || parts[0] != "" {
		return nil, errUnrecognised
	}
	variant, err := argon2Variant(parts[1])
	if err != nil {
		return nil, fmt.Errorf("argon2 hash: %w", err)
	}
	if parts[2] != "v=19" {
		return nil, fmt.Errorf("argon2 hash: version %q is not supported (only v=19)", strings.TrimPrefix(parts[2], "v="))
	}
	p := argon2Params{variant: variant}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		target := map[string]*int{"m": &p.memory, "t": &p.time, "p": &p.threads}[k]
		if err != nil || target == nil || seen[k] {
			return nil, fmt.Errorf("argon2 hash: bad parameter %q", kv)
		}
		seen[k], *target = true, n
	}
	if len(seen) != 3 {
		return nil, errors.New("argon2 hash: m, t and p are all required")
	}
	if p.salt, err = decodeBase64(parts[4]); err != nil || len(p.salt) == 0 {
		return nil, errors.New("argon2 hash: salt is not base64")
	}
	if p.key, err = decodeBase64(parts[5]); err != nil {
		return nil, errors.New("argon2 hash: hash is not base64")
	}
	p.keyLen = len(p.key)
	if ps := p.problems(); len(ps) > 0 {
		return nil, fmt.Errorf("argon2 hash: %s %s", ps[0].key, ps[0].msg)
	}
	return &p, nil
}

// derive computes the tag of password with p's parameters and salt.
func (p *argon2Params) derive(password []byte) []byte {
	if p.variant == "argon2i" {
		return argon2.Key(password, p.salt, uint32(p.time), uint32(p.memory), uint8(p.threads), uint32(p.keyLen))
	}
	return argon2.IDKey(password, p.salt, uint32(p.time), uint32(p.memory), uint8(p.threads), uint32(p.keyLen))
}

func (p *argon2Params) verify(password []byte) bool {
	return subtle.ConstantTimeCompare(p.derive(password), p.key) == 1
}

// encode writes the PHC string, unpadded base64 as password4j writes it.
func (p *argon2Params) encode(key []byte) string {
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", p.variant, argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(p.salt), base64.RawStdEncoding.EncodeToString(key))
}
