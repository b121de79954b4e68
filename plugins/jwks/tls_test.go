package jwks

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
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/realmd/realmd/plugins/jwt/jwttest"
	"github.com/realmd/realmd/sdk"
)

// clientCert makes a self-signed client certificate and key, as PEM.
func clientCert(t *testing.T) (certPEM, keyPEM []byte, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "realmd-client"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), cert
}

func TestTLS_ProviderConnection(t *testing.T) {
	body := jwttest.Set(jwttest.Shared("HS256", "tls").JWK("a", true))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	quiet := log.New(io.Discard, "", 0)
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ErrorLog = quiet
	srv.StartTLS()
	t.Cleanup(srv.Close)
	caPEM := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

	certPEM, keyPEM, cliCert := clientCert(t)
	mtls := httptest.NewUnstartedServer(handler)
	pool := x509.NewCertPool()
	pool.AddCert(cliCert)
	mtls.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	mtls.Config.ErrorLog = quiet
	mtls.StartTLS()
	t.Cleanup(mtls.Close)
	mtlsCA := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: mtls.Certificate().Raw}))

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), []byte(caPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	// The test certificate names 127.0.0.1 and example.com, not localhost.
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	tests := []struct {
		name   string
		url    string
		config map[string]any
		ok     bool
		warns  bool // about verify_hostnames
	}{
		{name: "without enable_ssl the system trust store refuses the test CA", url: srv.URL,
			config: map[string]any{"pemtrustedcas_content": caPEM}},
		{name: "trusted CA inline", url: srv.URL, ok: true,
			config: map[string]any{"enable_ssl": true, "pemtrustedcas_content": caPEM}},
		{name: "trusted CA file relative to the config dir", url: srv.URL, ok: true,
			config: map[string]any{"enable_ssl": true, "pemtrustedcas_filepath": "ca.pem"}},
		{name: "host name mismatch is refused", url: byName,
			config: map[string]any{"enable_ssl": true, "pemtrustedcas_content": caPEM}},
		// OpenSearch's key-set client checks the name whatever
		// verify_hostnames and trust_all say (found by review: realmd
		// dropped the check, so any trusted certificate could serve keys).
		{name: "verify_hostnames false still refuses a trusted chain for another name", url: byName, warns: true,
			config: map[string]any{"enable_ssl": true, "pemtrustedcas_content": caPEM, "verify_hostnames": false}},
		{name: "verify_hostnames false still refuses an untrusted chain", url: byName, warns: true,
			config: map[string]any{"enable_ssl": true, "pemtrustedcas_content": string(certPEM), "verify_hostnames": false}},
		{name: "trust_all accepts any issuer", url: srv.URL, ok: true,
			config: map[string]any{"enable_ssl": true, "trust_all": true}},
		{name: "trust_all still checks the name", url: byName,
			config: map[string]any{"enable_ssl": true, "trust_all": true}},
		{name: "client certificate is presented", url: mtls.URL, ok: true,
			config: map[string]any{"enable_ssl": true, "pemtrustedcas_content": mtlsCA, "enable_ssl_client_auth": true,
				"pemcert_content": string(certPEM), "pemkey_content": string(keyPEM)}},
		{name: "server requiring a client certificate refuses none", url: mtls.URL,
			config: map[string]any{"enable_ssl": true, "pemtrustedcas_content": mtlsCA}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sdk.NewConfigMap(map[string]any{"jwks": tt.config}, dir, nil)
			o := ReadTLS(cfg, "jwks")
			if err := cfg.Err(); err != nil {
				t.Fatal(err)
			}
			if w := cfg.Warnings(); (len(w) == 1 && w[0].Key == "jwks.verify_hostnames") != tt.warns {
				t.Errorf("warnings = %v, want one at jwks.verify_hostnames: %v", w, tt.warns)
			}
			conf, err := o.Config()
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(Options{URL: tt.url + "/jwks", Client: NewHTTPClient(conf, 5*time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Key(context.Background(), "a")
			if (err == nil) != tt.ok {
				t.Fatalf("Key: err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestReadTLS_Problems(t *testing.T) {
	tests := []struct {
		name    string
		config  map[string]any
		wantKey string
	}{
		{name: "unknown protocol", config: map[string]any{"enabled_ssl_protocols": []any{"SSLv3"}}, wantKey: "jwks.enabled_ssl_protocols[0]"},
		{name: "unknown cipher", config: map[string]any{"enabled_ssl_ciphers": "TLS_FOO"}, wantKey: "jwks.enabled_ssl_ciphers[0]"},
		{name: "insecure cipher", config: map[string]any{"enabled_ssl_ciphers": []any{"TLS_RSA_WITH_RC4_128_SHA"}}, wantKey: "jwks.enabled_ssl_ciphers[0]"},
		{name: "encrypted key", config: map[string]any{"pemkey_password": "x"}, wantKey: "jwks.pemkey_password"},
		{name: "client auth without certificate", config: map[string]any{"enable_ssl": true, "enable_ssl_client_auth": true, "pemkey_content": "k"}, wantKey: "jwks.pemcert_filepath"},
		{name: "unknown key under the prefix", config: map[string]any{"enable_tls": true}, wantKey: "jwks.enable_tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := sdk.NewConfigMap(map[string]any{"jwks": tt.config}, "", nil)
			ReadTLS(cfg, "jwks")
			ps := cfg.Problems()
			if len(ps) != 1 || ps[0].Key != tt.wantKey {
				t.Fatalf("problems = %v, want one at %s", ps, tt.wantKey)
			}
		})
	}
}

func TestReadTLS_AcceptsOpenSearchDefaults(t *testing.T) {
	cfg := sdk.NewConfigMap(map[string]any{"jwks": map[string]any{
		"enable_ssl": true, "verify_hostnames": true, "trust_all": false,
		"enabled_ssl_protocols": []any{"TLSv1.2", "TLSv1.1"}, "cert_alias": "x", "ca_alias": "y",
		"enabled_ssl_ciphers": []any{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"},
	}}, "", nil)
	o := ReadTLS(cfg, "jwks")
	if err := cfg.Err(); err != nil {
		t.Fatal(err)
	}
	if o.MinVersion != tls.VersionTLS12 || o.MaxVersion != tls.VersionTLS12 {
		t.Errorf("versions = %x..%x, want TLS 1.2 only (1.1 is raised to 1.2)", o.MinVersion, o.MaxVersion)
	}
	if len(o.CipherSuites) != 1 || o.CipherSuites[0] != tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("cipher suites = %v", o.CipherSuites)
	}
}

// A key set fetched over https never follows a redirect to plain http,
// where anyone on the path could answer with keys of their own (found by
// review); a redirect that stays on https is followed.
func TestTLS_RedirectsStayOnHTTPS(t *testing.T) {
	body := jwttest.Set(jwttest.Shared("HS256", "tls").JWK("a", true))
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	defer plain.Close()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-http":
			http.Redirect(w, r, plain.URL+"/jwks", http.StatusFound)
		case "/to-https":
			http.Redirect(w, r, srv.URL+"/jwks", http.StatusFound)
		default:
			w.Write(body)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	for _, tt := range []struct {
		path    string
		wantErr string
	}{
		{path: "/to-https"},
		{path: "/to-http", wantErr: "must stay on https"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			s, err := New(Options{URL: srv.URL + tt.path, Client: NewHTTPClient(&tls.Config{RootCAs: roots}, 5*time.Second)})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, err = s.Key(context.Background(), "a")
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Key: err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// TestTLS_FileProblemsNameTheirKey: a missing or empty CA or client
// certificate file is reported at its jwks.* key, for realmd to point at
// the config line (found by review: it had no key).
func TestTLS_FileProblemsNameTheirKey(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "empty.pem"), []byte("no PEM here"), 0o600); err != nil {
		t.Fatal(err)
	}
	certPEM, _, _ := clientCert(t)
	tests := []struct {
		config  map[string]any
		wantKey string
	}{
		{config: map[string]any{"pemtrustedcas_filepath": "missing-ca.pem"}, wantKey: "jwks.pemtrustedcas_filepath"},
		{config: map[string]any{"pemtrustedcas_filepath": "empty.pem"}, wantKey: "jwks.pemtrustedcas_filepath"},
		{config: map[string]any{"pemtrustedcas_content": "no PEM"}, wantKey: "jwks.pemtrustedcas_content"},
		{config: map[string]any{"enable_ssl_client_auth": true, "pemcert_filepath": "missing.pem", "pemkey_filepath": "empty.pem"}, wantKey: "jwks.pemcert_filepath"},
		{config: map[string]any{"enable_ssl_client_auth": true, "pemcert_content": string(certPEM), "pemkey_filepath": "missing.pem"}, wantKey: "jwks.pemkey_filepath"},
		{config: map[string]any{"enable_ssl_client_auth": true, "pemcert_content": string(certPEM), "pemkey_filepath": "empty.pem"}, wantKey: "jwks.pemcert_content"},
	}
	for _, tt := range tests {
		tt.config["enable_ssl"] = true
		cfg := sdk.NewConfigMap(map[string]any{"jwks": tt.config}, dir, nil)
		o := ReadTLS(cfg, "jwks")
		if err := cfg.Err(); err != nil {
			t.Fatal(err)
		}
		_, err := o.Config()
		var p sdk.Problem
		if !errors.As(err, &p) || p.Key != tt.wantKey {
			t.Errorf("%v: err = %v, want a problem at %s", tt.config, err, tt.wantKey)
		}
	}
}
