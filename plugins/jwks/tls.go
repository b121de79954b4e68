package jwks

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/realmd/realmd/sdk"
)

// TLSOptions is the TLS setup for the connection to an identity provider,
// read from OpenSearch's SettingsBasedSSLConfigurator keys under a prefix
// (jwks.* for the jwt realm, openid_connect_idp.* for openid).
type TLSOptions struct {
	// Enabled is enable_ssl. When false every other field is ignored and the
	// system trust store is used, as in OpenSearch.
	Enabled bool
	// ClientAuth is enable_ssl_client_auth: present Cert and Key.
	ClientAuth bool
	// TrustedCAs* are pemtrustedcas_content (inline PEM, preferred) and
	// pemtrustedcas_filepath. Neither set means the system trust store.
	TrustedCAsPEM, TrustedCAsFile string
	CertPEM, CertFile             string
	KeyPEM, KeyFile               string
	// TrustAll accepts a server certificate from any issuer; its name is
	// still checked. Tests only.
	TrustAll bool
	// MinVersion and MaxVersion come from enabled_ssl_protocols.
	MinVersion, MaxVersion uint16
	// CipherSuites come from enabled_ssl_ciphers (TLS 1.2 suites; TLS 1.3
	// suites are not configurable in Go and are accepted as is).
	CipherSuites []uint16

	// prefix is the keys' prefix, for problems Config finds in the files.
	prefix string
}

// ReadTLS reads the TLS keys under prefix ("jwks" reads jwks.enable_ssl,
// ...), recording problems in cfg. It does no I/O; Config reads the files.
func ReadTLS(cfg *sdk.Config, prefix string) TLSOptions {
	k := func(name string) string { return prefix + "." + name }
	o := TLSOptions{
		Enabled:        cfg.Bool(k("enable_ssl"), false),
		ClientAuth:     cfg.Bool(k("enable_ssl_client_auth"), false),
		TrustedCAsPEM:  cfg.String(k("pemtrustedcas_content"), ""),
		TrustedCAsFile: cfg.Path(k("pemtrustedcas_filepath"), ""),
		CertPEM:        cfg.String(k("pemcert_content"), ""),
		CertFile:       cfg.Path(k("pemcert_filepath"), ""),
		KeyPEM:         cfg.String(k("pemkey_content"), ""),
		KeyFile:        cfg.Path(k("pemkey_filepath"), ""),
		TrustAll:       cfg.Bool(k("trust_all"), false),
		prefix:         prefix,
	}
	// OpenSearch's key-set client checks the server's name whatever this
	// says (KeySetRetriever has used httpclient5's default TLS strategy,
	// with its default host name verifier, since January 2025), so a
	// config that turns it off gains nothing there, nor here.
	if !cfg.Bool(k("verify_hostnames"), true) {
		cfg.Warn(k("verify_hostnames"), "false has no effect: the key set server's certificate must name the host in the URL, as in OpenSearch; put the name the certificate carries in the URL instead")
	}
	// Key store aliases and STARTTLS have no meaning for an HTTPS client
	// with PEM material.
	cfg.Ignore(k("cert_alias"), k("ca_alias"), k("enable_start_tls"))
	if cfg.String(k("pemkey_password"), "") != "" {
		cfg.Problem(k("pemkey_password"), "encrypted private keys are not supported; store the key unencrypted with restricted file permissions")
	}
	o.MinVersion, o.MaxVersion = tls.VersionTLS12, tls.VersionTLS13
	if protos := cfg.List(k("enabled_ssl_protocols"), nil); len(protos) > 0 {
		o.MinVersion, o.MaxVersion = readProtocols(cfg, k("enabled_ssl_protocols"), protos)
	}
	for i, name := range cfg.List(k("enabled_ssl_ciphers"), nil) {
		id, ok := cipherSuite(name)
		if !ok {
			cfg.Problem(fmt.Sprintf("%s[%d]", k("enabled_ssl_ciphers"), i), "unknown or insecure cipher suite %q", name)
			continue
		}
		if id != 0 {
			o.CipherSuites = append(o.CipherSuites, id)
		}
	}
	if o.Enabled && o.ClientAuth {
		if o.CertPEM == "" && o.CertFile == "" {
			cfg.Problem(k("pemcert_filepath"), "required when enable_ssl_client_auth is true")
		}
		if o.KeyPEM == "" && o.KeyFile == "" {
			cfg.Problem(k("pemkey_filepath"), "required when enable_ssl_client_auth is true")
		}
	}
	return o
}

// readProtocols maps Java protocol names to a version range. TLS 1.0 and 1.1
// are accepted for compatibility but never enabled: the floor is TLS 1.2.
func readProtocols(cfg *sdk.Config, key string, names []string) (uint16, uint16) {
	lo, hi := uint16(0), uint16(0)
	for i, n := range names {
		var v uint16
		switch n {
		case "TLSv1.3":
			v = tls.VersionTLS13
		case "TLSv1.2", "TLSv1.1", "TLSv1":
			v = tls.VersionTLS12
		default:
			cfg.Problem(fmt.Sprintf("%s[%d]", key, i), "unknown protocol %q (use TLSv1.2 or TLSv1.3)", n)
			continue
		}
		if lo == 0 || v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	if lo == 0 {
		return tls.VersionTLS12, tls.VersionTLS13
	}
	return lo, hi
}

// cipherSuite finds a secure suite by its IANA name (Java uses the same
// names). TLS 1.3 suites report id 0: Go always enables them.
func cipherSuite(name string) (uint16, bool) {
	for _, s := range tls.CipherSuites() {
		if s.Name != name {
			continue
		}
		for _, v := range s.SupportedVersions {
			if v == tls.VersionTLS13 {
				return 0, true
			}
		}
		return s.ID, true
	}
	return 0, false
}

// Config builds the tls.Config, reading the PEM files. It returns nil, nil
// when TLS options are not enabled (the default transport is used).
func (o TLSOptions) Config() (*tls.Config, error) {
	if !o.Enabled {
		return nil, nil
	}
	conf := &tls.Config{MinVersion: o.MinVersion, MaxVersion: o.MaxVersion, CipherSuites: o.CipherSuites}
	roots, err := o.roots()
	if err != nil {
		return nil, err
	}
	conf.RootCAs = roots
	if o.ClientAuth {
		cert, err := o.clientCert()
		if err != nil {
			return nil, err
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	if o.TrustAll {
		// Any issuer, but the name must still match, as OpenSearch's
		// client checks it. A connection to an IP address carries no name
		// here (Go sends none), so only the issuer is waived for it.
		conf.InsecureSkipVerify = true
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("server sent no certificate")
			}
			if cs.ServerName == "" {
				return nil
			}
			return cs.PeerCertificates[0].VerifyHostname(cs.ServerName)
		}
	}
	return conf, nil
}

func (o TLSOptions) roots() (*x509.CertPool, error) {
	pem, key, src := []byte(o.TrustedCAsPEM), "pemtrustedcas_content", "it"
	if len(pem) == 0 && o.TrustedCAsFile != "" {
		key, src = "pemtrustedcas_filepath", o.TrustedCAsFile
		b, err := sdk.ReadFile(o.TrustedCAsFile)
		if err != nil {
			return nil, o.problem(key, "reading trusted CAs: %v", err)
		}
		pem = b
	}
	if len(pem) == 0 {
		return nil, nil // system trust store
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, o.problem(key, "no PEM certificates in %s", src)
	}
	return pool, nil
}

func (o TLSOptions) clientCert() (tls.Certificate, error) {
	certPEM, keyPEM := []byte(o.CertPEM), []byte(o.KeyPEM)
	certKey, keyKey := "pemcert_content", "pemkey_content"
	var err error
	if len(certPEM) == 0 {
		certKey = "pemcert_filepath"
		if certPEM, err = sdk.ReadFile(o.CertFile); err != nil {
			return tls.Certificate{}, o.problem(certKey, "reading client certificate: %v", err)
		}
	}
	if len(keyPEM) == 0 {
		keyKey = "pemkey_filepath"
		if keyPEM, err = sdk.ReadFile(o.KeyFile); err != nil {
			return tls.Certificate{}, o.problem(keyKey, "reading client key: %v", err)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, o.problem(certKey, "loading the client certificate and %s.%s: %v", o.prefix, keyKey, err)
	}
	return cert, nil
}

// problem is a problem with the file or content at the option key, as an
// error: a realm's Provision returns it and realmd reports it at the key.
func (o TLSOptions) problem(key, format string, args ...any) error {
	if o.prefix != "" {
		key = o.prefix + "." + key
	}
	return sdk.Problem{Key: key, Message: fmt.Sprintf(format, args...)}
}

// NewHTTPClient returns a client for an identity provider: its own
// transport (with conf when non-nil), bounded connection and header
// timeouts, proxies from the environment, and redirects that never leave
// https.
func NewHTTPClient(conf *tls.Config, timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if conf != nil {
		t.TLSClientConfig = conf
	}
	t.TLSHandshakeTimeout = timeout
	t.ResponseHeaderTimeout = timeout
	t.MaxIdleConnsPerHost = 2
	return &http.Client{Transport: t, Timeout: timeout, CheckRedirect: keepHTTPS}
}

// keepHTTPS refuses a redirect from https to anything else: keys fetched
// over plain http after an https start could come from anyone on the path.
// Otherwise it is Go's default policy (at most 10 redirects).
func keepHTTPS(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("refusing the redirect from %s to %s: a key set fetched over https must stay on https", via[0].URL.Redacted(), req.URL.Redacted())
	}
	return nil
}
