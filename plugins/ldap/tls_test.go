package ldap

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/internal/testenv/slapd"
	"github.com/realmd/realmd/sdk"
)

// issueCert signs tmpl with parent's key (tmpl itself and a new key when
// parent is nil: self-signed) and returns the certificate and its key.
func issueCert(t *testing.T, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// testCA returns a self-signed CA valid for the next hour.
func testCA(t *testing.T, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	return issueCert(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
}

// clientKeyPEM returns a self-signed certificate and its key, the key
// encrypted with the legacy PEM encryption when password is set.
func clientKeyPEM(t *testing.T, password string) (certPEM, keyPEM []byte) {
	t.Helper()
	cert, key := issueCert(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}, nil, nil)
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
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), pem.EncodeToMemory(block)
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

// serveTLS accepts TLS connections on a loopback port with cert until the
// test ends, and returns the address. A handshake the client refuses just
// ends the connection: no LDAP is spoken.
func serveTLS(t *testing.T, cert *x509.Certificate, key *ecdsa.PrivateKey) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}}})
	if err != nil {
		t.Fatal(err)
	}
	serveEach(t, ln, func(c *tls.Conn) {
		_ = c.SetDeadline(time.Now().Add(generous))
		_ = c.Handshake()
	})
	return ln.Addr().String()
}

// serveEach runs handle for each TLS connection ln accepts until the test
// ends, then closes ln and waits for every handle. A connection is closed
// when its handle returns.
func serveEach(t *testing.T, ln net.Listener, handle func(c *tls.Conn)) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener is closed
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c.(*tls.Conn))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
}

// A certificate refused for its dates, its issuer or its names makes the
// call unavailable with an error and an error log line that name the
// certificate and say what to do; an expired certificate was reported as
// "not trusted" with a hint about CAs (found by review).
func TestTLS_CertificateFailuresSayWhy(t *testing.T) {
	ca, caKey := testCA(t, "realmd test CA")
	other, _ := testCA(t, "some other CA")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	otherPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: other.Raw}))
	now := time.Now().Truncate(time.Second)
	leaf := func(cn string, from, until time.Time, dnsNames ...string) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: cn, Organization: []string{"realmd test"}},
			NotBefore: from, NotAfter: until, DNSNames: dnsNames, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		if len(dnsNames) == 0 {
			tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		}
		return tmpl
	}
	rfc := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	tests := []struct {
		name    string
		cert    *x509.Certificate
		config  map[string]any
		wantMsg string   // the log line's message
		want    []string // in the error and in the log line
	}{
		{name: "expired", cert: leaf("ldap-expired", now.Add(-48*time.Hour), now.Add(-24*time.Hour)),
			config:  map[string]any{"pemtrustedcas_filepath": caFile},
			wantMsg: "ldap server certificate has expired",
			want:    []string{"CN=ldap-expired,O=realmd test", rfc(now.Add(-48 * time.Hour)), rfc(now.Add(-24 * time.Hour)), "renew the certificate", "clock"}},
		{name: "not yet valid", cert: leaf("ldap-future", now.Add(24*time.Hour), now.Add(48*time.Hour)),
			config:  map[string]any{"pemtrustedcas_filepath": caFile},
			wantMsg: "ldap server certificate is not yet valid",
			want:    []string{"CN=ldap-future,O=realmd test", rfc(now.Add(24 * time.Hour)), rfc(now.Add(48 * time.Hour)), "clock"}},
		{name: "issuer not trusted", cert: leaf("ldap-valid", now.Add(-time.Hour), now.Add(time.Hour)),
			config:  map[string]any{"pemtrustedcas_content": otherPEM},
			wantMsg: "ldap server certificate is not trusted",
			want:    []string{"CN=ldap-valid,O=realmd test", "CN=realmd test CA", "pemtrustedcas_content", "pemtrustedcas_filepath"}},
		{name: "other host name", cert: leaf("ldap-named", now.Add(-time.Hour), now.Add(time.Hour), "ldap.example.com"),
			config:  map[string]any{"pemtrustedcas_filepath": caFile},
			wantMsg: "ldap server certificate does not match the host name",
			want:    []string{"CN=ldap-named,O=realmd test", "127.0.0.1", "ldap.example.com", "verify_hostnames: false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cert, key := issueCert(t, tt.cert, ca, caKey)
			addr := serveTLS(t, cert, key)
			logs := &testenv.LogBuffer{}
			b := newTestBackend(t, merge(tt.config, map[string]any{"hosts": addr, "enable_ssl": true, "usersearch": "(uid={0})"}), logs)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			_, err := b.Authenticate(ctx, creds("jacksonm", "secret"))
			if !errors.Is(err, sdk.ErrUnavailable) {
				t.Fatalf("got %v, want ErrUnavailable", err)
			}
			if !contains(err.Error(), tt.want...) {
				t.Errorf("error %q\nwants all of %q", err, tt.want)
			}
			var line string
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, "[ERROR]") && strings.Contains(l, tt.wantMsg) {
					line = l
					break
				}
			}
			if !contains(line, append(tt.want, "host="+addr)...) {
				t.Errorf("no error log line %q with all of %q:\n%s", tt.wantMsg, tt.want, logs)
			}
		})
	}
}

// mtlsProxy forwards TLS connections on a loopback port to slapd's plain
// port, requiring a client certificate issued by the test CA (as stunnel
// with verify=2, or a directory with TLSVerifyClient demand), until the
// test ends. It returns the address.
func mtlsProxy(t *testing.T, s *slapd.Server) string {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(filepath.Join(s.Dir, "server.pem"), filepath.Join(s.Dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	clients := x509.NewCertPool()
	clients.AppendCertsFromPEM(s.CAPEM)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients})
	if err != nil {
		t.Fatal(err)
	}
	serveEach(t, ln, func(c *tls.Conn) {
		_ = c.SetDeadline(time.Now().Add(generous))
		if c.Handshake() != nil {
			return // no client certificate: the connection ends
		}
		_ = c.SetDeadline(time.Time{})
		u, err := net.Dial("tcp", s.LDAPAddr())
		if err != nil {
			return
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			_, _ = io.Copy(u, c)
			u.Close()
		}()
		_, _ = io.Copy(c, u)
		c.Close()
		<-done
	})
	return ln.Addr().String()
}

// pemcert_* and pemkey_* are sent whenever both are set, as OpenSearch's PEM
// mode loads them and ldaptive sends them: enable_ssl_client_auth only makes
// them mandatory and, without bind_dn, binds with SASL EXTERNAL. A server
// that requires client certificates, searched with bind_dn, was
// unavailable without the flag (found by review).
func TestTLS_ClientCertificateIsSentWithoutEnableSSLClientAuth(t *testing.T) {
	s := startDirectory(t)
	proxy := mtlsProxy(t, s)
	base := map[string]any{"hosts": []any{"ldaps://" + proxy}, "usersearch": "(uid={0})",
		"pemtrustedcas_filepath": s.CAFile, "pemcert_filepath": s.ClientCertFile, "pemkey_filepath": s.ClientKeyFile,
		"bind_dn": "cn=Captain Spock,ou=people,o=TEST", "password": "spocksecret"}
	clientPEM, err := os.ReadFile(s.ClientCertFile)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := os.ReadFile(s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		config map[string]any
	}{
		{name: "files, bind_dn, no flag", config: map[string]any{}},
		{name: "files, bind_dn, flag", config: map[string]any{"enable_ssl_client_auth": true}},
		{name: "inline, bind_dn, no flag", config: map[string]any{"pemcert_filepath": nil, "pemkey_filepath": nil,
			"pemcert_content": string(clientPEM), "pemkey_content": string(keyPEM)}},
		{name: "files, anonymous, no flag", config: map[string]any{"bind_dn": nil, "password": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := &testenv.LogBuffer{}
			b := newTestBackend(t, merge(base, tt.config), logs)
			ctx, cancel := context.WithTimeout(context.Background(), generous)
			defer cancel()
			u, err := b.Authenticate(ctx, creds("jacksonm", "secret"))
			if err != nil || u == nil || u.Name != jacksonDN {
				t.Fatalf("Authenticate: %+v, %v\n%s", u, err, logs)
			}
		})
	}
}
