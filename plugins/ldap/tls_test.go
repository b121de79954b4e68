package ldap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"testing"
	"time"
)

// clientKeyPEM returns a self-signed certificate and its key, the key
// encrypted with the legacy PEM encryption when password is set.
func clientKeyPEM(t *testing.T, password string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	block := &pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}
	if password != "" {
		//lint:ignore SA1019 the legacy format is what pemkey_password decrypts
		block, err = x509.EncryptPEMBlock(rand.Reader, "EC PRIVATE KEY", keyDER, []byte(password), x509.PEMCipherAES256)
		if err != nil {
			t.Fatal(err)
		}
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(block)
}

func TestReadTLSConfig_ClientKeys(t *testing.T) {
	plainCert, plainKey := clientKeyPEM(t, "")
	encCert, encKey := clientKeyPEM(t, "s3cret")
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0}})
	tests := []struct {
		name      string
		cert, key []byte
		password  string
		want      []string
	}{
		{name: "plain key", cert: plainCert, key: plainKey},
		{name: "encrypted key with its password", cert: encCert, key: encKey, password: "s3cret"},
		{name: "encrypted key with a wrong password", cert: encCert, key: encKey, password: "wrong", want: []string{"pemkey_content"}},
		{name: "encrypted key without a password", cert: encCert, key: encKey, want: []string{"pemkey_content"}},
		{name: "encrypted PKCS#8", cert: encCert, key: pkcs8, password: "s3cret", want: []string{"pemkey_content"}},
		{name: "key of another certificate", cert: plainCert, key: encKey, password: "s3cret", want: []string{"pemkey_content"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := map[string]any{"enable_ssl": true, "enable_ssl_client_auth": true,
				"pemcert_content": string(tt.cert), "pemkey_content": string(tt.key)}
			if tt.password != "" {
				m["pemkey_password"] = tt.password
			}
			cfg := readTestConfig(t, m, nil)
			c := ReadConfig(cfg)
			if got := problemKeys(cfg); !slices.Equal(got, tt.want) {
				t.Fatalf("problem keys %q, want %q (%v)", got, tt.want, cfg.Problems())
			}
			if tt.want != nil {
				return
			}
			tc, _, err := c.Conn.TLS.build(true)
			if err != nil || len(tc.Certificates) != 1 {
				t.Fatalf("build: %v", err)
			}
		})
	}
}
