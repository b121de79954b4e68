package basic

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestHash_RoundTripsThroughTheVerifier(t *testing.T) {
	password := []byte("correct horse:battery staple é")
	tests := []struct {
		name   string
		opts   HashOptions
		format string // regexp the hash must match
	}{
		{name: "bcrypt minor Y", opts: HashOptions{Algorithm: BCrypt, BCrypt: BCryptOptions{Rounds: 4, Minor: "Y"}}, format: `^\$2y\$04\$[./A-Za-z0-9]{53}$`},
		{name: "bcrypt minor A", opts: HashOptions{Algorithm: BCrypt, BCrypt: BCryptOptions{Rounds: 5, Minor: "A"}}, format: `^\$2a\$05\$`},
		{name: "bcrypt minor b in lower case", opts: HashOptions{Algorithm: BCrypt, BCrypt: BCryptOptions{Rounds: 4, Minor: "b"}}, format: `^\$2b\$04\$`},
		{name: "bcrypt default minor is Y", opts: HashOptions{BCrypt: BCryptOptions{Rounds: 4}}, format: `^\$2y\$04\$`},
		{name: "pbkdf2 SHA1", opts: HashOptions{Algorithm: PBKDF2, PBKDF2: PBKDF2Options{Function: "SHA1", Iterations: 1000, Length: 128}}, format: `^\$1\$4294967296128\$`},
		{name: "pbkdf2 SHA224", opts: HashOptions{Algorithm: PBKDF2, PBKDF2: PBKDF2Options{Function: "SHA224", Iterations: 1000, Length: 224}}, format: `^\$2\$4294967296224\$`},
		{name: "pbkdf2 SHA256", opts: HashOptions{Algorithm: PBKDF2, PBKDF2: PBKDF2Options{Function: "SHA256", Iterations: 1000, Length: 256}}, format: `^\$3\$4294967296256\$`},
		{name: "pbkdf2 SHA384", opts: HashOptions{Algorithm: "PBKDF2", PBKDF2: PBKDF2Options{Function: "sha384", Iterations: 1000, Length: 384}}, format: `^\$4\$4294967296384\$`},
		{name: "pbkdf2 SHA512 with a long key", opts: HashOptions{Algorithm: PBKDF2, PBKDF2: PBKDF2Options{Function: "SHA512", Iterations: 1000, Length: 1024}}, format: `^\$5\$4294967297024\$`},
		{name: "argon2id", opts: HashOptions{Algorithm: Argon2, Argon2: Argon2Options{Memory: 1024, Iterations: 1, Parallelism: 1, Length: 32, Type: "argon2id", Version: 19}}, format: `^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{43}\$[A-Za-z0-9+/]{43}$`},
		{name: "argon2i with two lanes", opts: HashOptions{Algorithm: Argon2, Argon2: Argon2Options{Memory: 256, Iterations: 2, Parallelism: 2, Length: 16, Type: "ARGON2I", Version: 19}}, format: `^\$argon2i\$v=19\$m=256,t=2,p=2\$[A-Za-z0-9+/]{43}\$[A-Za-z0-9+/]{22}$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Hash(password, tt.opts)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if !regexp.MustCompile(tt.format).MatchString(h) {
				t.Errorf("Hash = %q, want it to match %s", h, tt.format)
			}
			v, err := parseHash(h)
			if err != nil {
				t.Fatalf("parseHash(%q): %v", h, err)
			}
			if !v.verify(password) {
				t.Error("the hash does not verify its own password")
			}
			if v.verify([]byte("correct horse:battery staple e")) {
				t.Error("the hash verifies a different password")
			}
			again, _ := Hash(password, tt.opts)
			if again == h {
				t.Error("two hashes of one password are equal: the salt is not random")
			}
		})
	}
}

func TestHash_PBKDF2UsesOpenSearchSaltAndKeyLengths(t *testing.T) {
	h, err := Hash([]byte("pw"), HashOptions{Algorithm: PBKDF2, PBKDF2: PBKDF2Options{Function: "SHA256", Iterations: 1000, Length: 256}})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$")
	params, _ := strconv.ParseInt(parts[2], 10, 64)
	salt, err1 := base64.StdEncoding.DecodeString(parts[3])
	key, err2 := base64.StdEncoding.DecodeString(parts[4])
	if err1 != nil || err2 != nil || params>>32 != 1000 || params&0xffffffff != 256 || len(salt) != 128 || len(key) != 32 {
		t.Errorf("hash %q: iterations %d, bits %d, salt %d bytes, key %d bytes; want 1000, 256, 128, 32 (padded base64)",
			h, params>>32, params&0xffffffff, len(salt), len(key))
	}
}

func TestHash_Refuses(t *testing.T) {
	tests := []struct {
		name     string
		password string
		opts     HashOptions
		want     string // in the error
	}{
		{name: "empty password", password: "", want: "empty"},
		{name: "unknown algorithm", password: "pw", opts: HashOptions{Algorithm: "md5"}, want: "algorithm"},
		{name: "bcrypt rounds below 4", password: "pw", opts: HashOptions{BCrypt: BCryptOptions{Rounds: 3}}, want: "bcrypt.rounds"},
		{name: "bcrypt rounds above 31", password: "pw", opts: HashOptions{BCrypt: BCryptOptions{Rounds: 32}}, want: "bcrypt.rounds"},
		{name: "bcrypt minor X", password: "pw", opts: HashOptions{BCrypt: BCryptOptions{Rounds: 4, Minor: "X"}}, want: "bcrypt.minor"},
		{name: "bcrypt password over 72 bytes", password: strings.Repeat("p", 73), opts: HashOptions{BCrypt: BCryptOptions{Rounds: 4}}, want: "72"},
		{name: "pbkdf2 MD5", password: "pw", opts: HashOptions{Algorithm: PBKDF2, PBKDF2: PBKDF2Options{Function: "MD5"}}, want: "pbkdf2.function"},
		{name: "pbkdf2 negative iterations", password: "pw", opts: HashOptions{Algorithm: PBKDF2, PBKDF2: PBKDF2Options{Iterations: -1}}, want: "pbkdf2.iterations"},
		{name: "pbkdf2 length not whole bytes", password: "pw", opts: HashOptions{Algorithm: PBKDF2, PBKDF2: PBKDF2Options{Length: 100}}, want: "pbkdf2.length"},
		{name: "argon2d", password: "pw", opts: HashOptions{Algorithm: Argon2, Argon2: Argon2Options{Type: "argon2d"}}, want: "argon2d is not supported"},
		{name: "argon2 version 16", password: "pw", opts: HashOptions{Algorithm: Argon2, Argon2: Argon2Options{Version: 16}}, want: "argon2.version"},
		{name: "argon2 memory under 8 KiB per lane", password: "pw", opts: HashOptions{Algorithm: Argon2, Argon2: Argon2Options{Memory: 15, Parallelism: 2}}, want: "argon2.memory"},
		{name: "argon2 too many lanes", password: "pw", opts: HashOptions{Algorithm: Argon2, Argon2: Argon2Options{Parallelism: 256}}, want: "argon2.parallelism"},
		{name: "argon2 short tag", password: "pw", opts: HashOptions{Algorithm: Argon2, Argon2: Argon2Options{Length: 3}}, want: "argon2.length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Hash([]byte(tt.password), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Hash = %q, %v; want an error mentioning %q", h, err, tt.want)
			}
		})
	}
}

func TestDefaultHashOptions_AreOpenSearchs(t *testing.T) {
	want := HashOptions{
		Algorithm: "bcrypt",
		BCrypt:    BCryptOptions{Rounds: 12, Minor: "Y"},
		PBKDF2:    PBKDF2Options{Function: "SHA256", Iterations: 600000, Length: 256},
		Argon2:    Argon2Options{Memory: 65536, Iterations: 3, Parallelism: 1, Length: 32, Type: "argon2id", Version: 19},
	}
	if got := DefaultHashOptions(); got != want {
		t.Errorf("DefaultHashOptions = %+v, want %+v", got, want)
	}
	if got := (HashOptions{}).withDefaults(); got != want {
		t.Errorf("zero options with defaults = %+v, want %+v", got, want)
	}
	if err := want.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
}

func TestParseHash_Refuses(t *testing.T) {
	const salt = "c29tZXNhbHQ"
	const tag = "Kd/lnpB1yuLHOY3qaqb1+T05DtEJFqS1U6tuJZWo8dg"
	tests := []struct {
		name string
		hash string
		want string
	}{
		{name: "plain text", hash: "admin", want: "not a bcrypt"},
		{name: "md5 crypt", hash: "$1$salt$abc", want: "not a bcrypt"},
		{name: "sha512 crypt", hash: "$6$rounds=5000$salt$hash", want: "unknown function"},
		{name: "bcrypt too short", hash: "$2a$12$abc", want: "not a bcrypt"},
		{name: "bcrypt minor x", hash: "$2x$12$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG", want: "not a bcrypt"},
		{name: "bcrypt outside its alphabet", hash: "$2a$12$VcCDgh2NDk07JGN0rjGbM+Ad41qVR/YFJcgHp0UGns5JDymv..TOG", want: "alphabet"},
		{name: "bcrypt cost 3", hash: "$2a$03$VcCDgh2NDk07JGN0rjGbM.Ad41qVR/YFJcgHp0UGns5JDymv..TOG", want: "cost"},
		{name: "pbkdf2 function 6", hash: "$6$4294967296256$c2FsdA==$a2V5", want: "unknown function"},
		{name: "pbkdf2 parameters not a number", hash: "$3$many$c2FsdA==$a2V5", want: "not a number"},
		{name: "pbkdf2 zero iterations", hash: "$3$256$c2FsdA==$a2V5", want: "0 iterations"},
		{name: "pbkdf2 key of the wrong length", hash: "$3$4294967296256$c2FsdA==$a2V5", want: "not 32 bytes"},
		{name: "pbkdf2 salt not base64", hash: "$3$4294967296024$c2F*dA==$a2V5", want: "salt"},
		{name: "pbkdf2 missing part", hash: "$3$4294967296256$c2FsdA==", want: "not a bcrypt"},
		{name: "argon2d", hash: "$argon2d$v=19$m=65536,t=3,p=1$" + salt + "$" + tag, want: "argon2d is not supported"},
		{name: "argon2 version 16", hash: "$argon2id$v=16$m=65536,t=3,p=1$" + salt + "$" + tag, want: "version \"16\""},
		{name: "argon2 without a version", hash: "$argon2id$m=65536,t=3,p=1$" + salt + "$" + tag, want: "version 16"},
		{name: "argon2 unknown variant", hash: "$argon2x$v=19$m=65536,t=3,p=1$" + salt + "$" + tag, want: "argon2id or argon2i"},
		{name: "argon2 missing t", hash: "$argon2id$v=19$m=65536,p=1$" + salt + "$" + tag, want: "all required"},
		{name: "argon2 repeated m", hash: "$argon2id$v=19$m=65536,m=1,p=1$" + salt + "$" + tag, want: "bad parameter"},
		{name: "argon2 zero lanes", hash: "$argon2id$v=19$m=65536,t=3,p=0$" + salt + "$" + tag, want: "parallelism"},
		{name: "argon2 memory too small", hash: "$argon2id$v=19$m=4,t=3,p=1$" + salt + "$" + tag, want: "memory"},
		{name: "argon2 memory too large", hash: "$argon2id$v=19$m=8388608,t=3,p=1$" + salt + "$" + tag, want: "memory"},
		{name: "argon2 tag not base64", hash: "$argon2id$v=19$m=65536,t=3,p=1$" + salt + "$*", want: "hash is not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseHash(tt.hash)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseHash = %v, %v; want an error mentioning %q", v, err, tt.want)
			}
		})
	}
}
