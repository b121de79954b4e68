package jwt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
)

func pemOf(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// wrap breaks s into lines of n characters.
func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\n")
		s = s[n:]
	}
	return b.String() + s
}

func TestParseSigningKey(t *testing.T) {
	rsaKey := jwttest.Shared("RS256", "keys")
	der := rsaKey.PublicDER()
	b64 := base64.StdEncoding.EncodeToString(der)
	weakRSA, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakDER, _ := x509.MarshalPKIXPublicKey(&weakRSA.PublicKey)
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224DER, _ := x509.MarshalPKIXPublicKey(&p224.PublicKey)
	cert := selfSigned(t, rsaKey.Private.(*rsa.PrivateKey))
	pkcs1 := x509.MarshalPKCS1PublicKey(rsaKey.Public.(*rsa.PublicKey))
	rsaPriv, _ := x509.MarshalPKCS8PrivateKey(rsaKey.Private)
	ecPriv, _ := x509.MarshalECPrivateKey(p224)
	// Public keys Go's x509 cannot read: an RSASSA-PSS key and a secp256k1
	// key. Their bytes were taken as an HMAC secret (found by review).
	pss := spkiDER(t, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}}, pkcs1)
	secp256k1, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 3, 132, 0, 10})
	k1 := spkiDER(t, pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}, Parameters: asn1.RawValue{FullBytes: secp256k1}},
		append([]byte{4}, bytes.Repeat([]byte{7}, 64)...))
	badCert, _ := asn1.Marshal(struct {
		TBS       asn1.RawValue
		Algorithm pkix.AlgorithmIdentifier
		Signature asn1.BitString
	}{asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: []byte{2, 1, 1}},
		pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}}, asn1.BitString{Bytes: []byte{1}, BitLength: 8}})

	tests := []struct {
		name    string
		in      string
		want    string // KeyKind of the result
		wantErr string
	}{
		{name: "PEM PUBLIC KEY RSA", in: pemOf("PUBLIC KEY", der), want: "RSA"},
		{name: "PEM without line break before END, as in OpenSearch's tests", in: "-----BEGIN PUBLIC KEY-----\n" + b64 + "-----END PUBLIC KEY-----", want: "RSA"},
		{name: "PEM wrapped at 64 columns", in: "-----BEGIN PUBLIC KEY-----\n" + wrap(b64, 64) + "\n-----END PUBLIC KEY-----", want: "RSA"},
		{name: "PEM with CRLF", in: strings.ReplaceAll(pemOf("PUBLIC KEY", der), "\n", "\r\n"), want: "RSA"},
		{name: "bare base64 SubjectPublicKeyInfo", in: b64, want: "RSA"},
		{name: "bare base64 EC P-521 key", in: base64.StdEncoding.EncodeToString(jwttest.Shared("ES512", "keys").PublicDER()), want: "EC P-521"},
		{name: "PEM EC P-256", in: jwttest.Shared("ES256", "keys").SigningKey(), want: "EC P-256"},
		{name: "PEM Ed25519", in: jwttest.Shared("EdDSA", "keys").SigningKey(), want: "Ed25519"},
		{name: "PEM RSA PUBLIC KEY (PKCS#1)", in: pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rsaKey.Public.(*rsa.PublicKey))), want: "RSA"},
		{name: "PEM CERTIFICATE", in: pemOf("CERTIFICATE", cert), want: "RSA"},
		{name: "bare base64 PKCS#1 RSA public key (found by review)", in: base64.StdEncoding.EncodeToString(pkcs1), want: "RSA"},
		{name: "bare base64 certificate", in: base64.StdEncoding.EncodeToString(cert), want: "RSA"},
		{name: "bare base64 RSASSA-PSS key is not an HMAC secret", in: base64.StdEncoding.EncodeToString(pss), wantErr: "algorithm 1.2.840.113549.1.1.10"},
		{name: "bare base64 secp256k1 key is not an HMAC secret", in: base64.StdEncoding.EncodeToString(k1), wantErr: "refusing to take its bytes as an HMAC secret"},
		{name: "bare base64 PKCS#8 private key is refused", in: base64.StdEncoding.EncodeToString(rsaPriv), wantErr: "never the private key"},
		{name: "bare base64 EC private key is refused", in: base64.StdEncoding.EncodeToString(ecPriv), wantErr: "never the private key"},
		{name: "bare base64 certificate Go cannot read is not an HMAC secret", in: base64.StdEncoding.EncodeToString(badCert), wantErr: "certificate realmd cannot read"},
		{name: "HMAC secret of 32 bytes", in: base64.StdEncoding.EncodeToString(secret[:32]), want: "HMAC"},
		{name: "HMAC secret without padding", in: strings.TrimRight(secretKey, "="), want: "HMAC"},
		{name: "HMAC secret of 10 bytes is too weak", in: base64.StdEncoding.EncodeToString([]byte{1, 3, 3, 4, 3, 6, 7, 8, 3, 10}), wantErr: "at least 32"},
		{name: "HMAC secret of 31 bytes is too weak", in: base64.StdEncoding.EncodeToString(secret[:31]), wantErr: "at least 32"},
		{name: "RSA 1024 is too weak", in: pemOf("PUBLIC KEY", weakDER), wantErr: "2048"},
		{name: "P-224 is refused", in: pemOf("PUBLIC KEY", p224DER), wantErr: "P-224"},
		{name: "a private key is refused", in: pemOf("PRIVATE KEY", []byte("x")), wantErr: "never the private key"},
		{name: "an unknown PEM block is refused", in: pemOf("DSA PUBLIC KEY", []byte("x")), wantErr: "unsupported PEM block"},
		{name: "PEM without END", in: "-----BEGIN PUBLIC KEY-----\n" + b64, wantErr: "no END line"},
		// A second block in the same entry was dropped silently (found
		// by review).
		{name: "two PEM blocks in one entry", in: pemOf("PUBLIC KEY", der) + jwttest.Shared("ES256", "keys").SigningKey(), wantErr: "more than one PEM block"},
		{name: "two PEM blocks without a line break", in: strings.TrimSpace(pemOf("PUBLIC KEY", der)) + strings.TrimSpace(pemOf("PUBLIC KEY", der)), wantErr: "more than one PEM block"},
		{name: "text after the END line", in: pemOf("PUBLIC KEY", der) + "trailer", wantErr: "text after the PEM PUBLIC KEY block's END line"},
		{name: "white space after the END line", in: pemOf("PUBLIC KEY", der) + " \r\n\t\n", want: "RSA"},
		{name: "PEM with broken base64", in: "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----", wantErr: "PUBLIC KEY block"},
		{name: "PEM with a corrupt key", in: pemOf("PUBLIC KEY", der[:40]), wantErr: "reading public key"},
		{name: "URL-safe base64 is not accepted", in: "-_-_" + strings.Repeat("A", 60), wantErr: "neither PEM nor base64"},
		{name: "empty", in: "  ", wantErr: "empty key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ParseSigningKey(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := kind(key); got != tt.want {
				t.Fatalf("key kind = %s, want %s", got, tt.want)
			}
		})
	}
}

// spkiDER is a SubjectPublicKeyInfo with any algorithm, for keys Go's x509
// does not marshal.
func spkiDER(t *testing.T, alg pkix.AlgorithmIdentifier, key []byte) []byte {
	t.Helper()
	der, err := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}{alg, asn1.BitString{Bytes: key, BitLength: 8 * len(key)}})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func kind(key any) string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case []byte:
		return "HMAC"
	}
	return "?"
}

func selfSigned(t *testing.T, key *rsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "issuer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
