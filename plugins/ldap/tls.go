package ldap

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/realmd/realmd/sdk"
)

// TLSConfig holds the TLS keys of the realm. Files are read by Provision;
// inline PEM is checked when the config is read.
type TLSConfig struct {
	VerifyHostnames bool
	TrustAll        bool
	// CAFile or CAPEM are the trusted CAs (pemtrustedcas_*); neither means
	// the system roots.
	CAFile      string
	CAPEM       []byte
	CertFile    string
	CertPEM     []byte
	KeyFile     string
	KeyPEM      []byte
	KeyPassword string
	// MinVersion and MaxVersion come from enabled_ssl_protocols.
	MinVersion   uint16
	MaxVersion   uint16
	CipherSuites []uint16
}

func (t *TLSConfig) hasClientCert() bool {
	return (t.CertFile != "" || len(t.CertPEM) > 0) && (t.KeyFile != "" || len(t.KeyPEM) > 0)
}

var tlsVersions = map[string]uint16{"TLSv1.2": tls.VersionTLS12, "TLSv1.3": tls.VersionTLS13}

func readTLSConfig(cfg *sdk.Config) TLSConfig {
	t := TLSConfig{
		VerifyHostnames: cfg.Bool("verify_hostnames", true),
		TrustAll:        cfg.Bool("trust_all", false),
		KeyPassword:     cfg.String("pemkey_password", ""),
		MinVersion:      tls.VersionTLS12,
		MaxVersion:      tls.VersionTLS13,
	}
	t.CAFile, t.CAPEM = pemSource(cfg, "pemtrustedcas")
	t.CertFile, t.CertPEM = pemSource(cfg, "pemcert")
	t.KeyFile, t.KeyPEM = pemSource(cfg, "pemkey")
	if len(t.CAPEM) > 0 {
		if _, err := certPool(t.CAPEM); err != nil {
			cfg.Problem("pemtrustedcas_content", "%v", err)
		}
	}
	if len(t.CertPEM) > 0 && len(t.KeyPEM) > 0 {
		if _, err := keyPair(t.CertPEM, t.KeyPEM, t.KeyPassword); err != nil {
			cfg.Problem("pemkey_content", "%v", err)
		}
	}
	if cfg.Has("enabled_ssl_protocols") {
		var ignored []string
		t.MinVersion, t.MaxVersion = 0, 0
		// "" is the default protocols, as OpenSearch's getAsList reads it.
		for _, p := range cfg.List("enabled_ssl_protocols", []string{"TLSv1.2", "TLSv1.3"}) {
			v, ok := tlsVersions[strings.TrimSpace(p)]
			if !ok {
				ignored = append(ignored, p)
				continue
			}
			if t.MinVersion == 0 || v < t.MinVersion {
				t.MinVersion = v
			}
			t.MaxVersion = max(t.MaxVersion, v)
		}
		if t.MinVersion == 0 {
			cfg.Problem("enabled_ssl_protocols", "names no protocol realmd supports: use TLSv1.2 and/or TLSv1.3")
		} else if len(ignored) > 0 {
			cfg.Warn("enabled_ssl_protocols", "ignoring %s: realmd speaks TLSv1.2 and TLSv1.3 only", strings.Join(ignored, ", "))
		}
	}
	if cfg.Has("enabled_ssl_ciphers") {
		t.CipherSuites = readCiphers(cfg)
	}
	// OpenSearch's keystore mode reads the node's JKS or PKCS#12 stores,
	// which realmd does not have.
	for _, key := range []string{"truststore_filepath", "keystore_filepath", "truststore_type", "keystore_type",
		"truststore_password", "keystore_password", "truststore_alias", "keystore_alias"} {
		if cfg.Has(key) {
			cfg.Raw(key)
			cfg.Problem(key, "Java key stores are not supported: use pemtrustedcas_*, pemcert_* and pemkey_*")
		}
	}
	for _, key := range []string{"ca_alias", "cert_alias"} {
		if cfg.Has(key) {
			cfg.Ignore(key)
			cfg.Warn(key, "ignored: realmd reads PEM files, not key stores, so there is no alias to pick")
		}
	}
	return t
}

// pemSource reads <prefix>_filepath and <prefix>_content; the file wins.
func pemSource(cfg *sdk.Config, prefix string) (file string, content []byte) {
	file = cfg.Path(prefix+"_filepath", "")
	s := cfg.String(prefix+"_content", "")
	if file != "" && s != "" {
		cfg.Warn(prefix+"_content", "ignored: %s_filepath is set too, and the file wins", prefix)
		return file, nil
	}
	if s != "" {
		content = []byte(s)
	}
	return file, content
}

func readCiphers(cfg *sdk.Config) []uint16 {
	known := map[string]uint16{}
	for _, s := range tls.CipherSuites() {
		known[s.Name] = s.ID
	}
	var ids []uint16
	var unknown []string
	tls13 := false
	for _, name := range cfg.List("enabled_ssl_ciphers", nil) {
		name = strings.TrimSpace(name)
		switch {
		case strings.HasPrefix(name, "TLS_AES_") || strings.HasPrefix(name, "TLS_CHACHA20_"):
			tls13 = true // TLS 1.3 suites are always on in Go
		case known[name] != 0:
			ids = append(ids, known[name])
		default:
			unknown = append(unknown, name)
		}
	}
	if len(ids) == 0 && !tls13 {
		cfg.Problem("enabled_ssl_ciphers", "names no cipher suite Go supports (%s)", strings.Join(unknown, ", "))
	} else if len(unknown) > 0 {
		cfg.Warn("enabled_ssl_ciphers", "ignoring cipher suites Go does not support: %s", strings.Join(unknown, ", "))
	}
	return ids
}

// build reads the PEM files and returns the client TLS config. Certificate
// checks happen in verify so that a failure keeps its type through StartTLS.
//
// The client certificate is offered whenever both pemcert_* and pemkey_*
// are set, as OpenSearch's PEM mode loads them and ldaptive sends them:
// enable_ssl_client_auth (clientAuth) only makes them mandatory, which
// readConnConfig checks, and selects SASL EXTERNAL without bind_dn. A
// server that requires client certificates is thus reachable with bind_dn.
func (t *TLSConfig) build(clientAuth bool) (*tls.Config, *x509.CertPool, error) {
	c := &tls.Config{
		MinVersion:         t.MinVersion,
		MaxVersion:         t.MaxVersion,
		CipherSuites:       t.CipherSuites,
		InsecureSkipVerify: true, // verified by verifyPeer, see newDialer
	}
	var roots *x509.CertPool
	caPEM := t.CAPEM
	if t.CAFile != "" {
		b, err := sdk.ReadFile(t.CAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("reading pemtrustedcas_filepath: %w", err)
		}
		caPEM = b
	}
	if len(caPEM) > 0 {
		p, err := certPool(caPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("pemtrustedcas: %w", err)
		}
		roots = p
	}
	if clientAuth || t.hasClientCert() {
		certPEM, keyPEM := t.CertPEM, t.KeyPEM
		for _, f := range []struct {
			path string
			dst  *[]byte
			key  string
		}{{t.CertFile, &certPEM, "pemcert_filepath"}, {t.KeyFile, &keyPEM, "pemkey_filepath"}} {
			if f.path == "" {
				continue
			}
			b, err := sdk.ReadFile(f.path)
			if err != nil {
				return nil, nil, fmt.Errorf("reading %s: %w", f.key, err)
			}
			*f.dst = b
		}
		pair, err := keyPair(certPEM, keyPEM, t.KeyPassword)
		if err != nil {
			return nil, nil, fmt.Errorf("client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, roots, nil
}

// verifyPeer checks the server's chain against roots (nil: the system
// roots) and, with verify_hostnames, its name.
func (t *TLSConfig) verifyPeer(cs tls.ConnectionState, roots *x509.CertPool, name string) error {
	if t.TrustAll {
		return nil
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if t.VerifyHostnames {
		opts.DNSName = name
	}
	_, err := cs.PeerCertificates[0].Verify(opts)
	return err
}

// certError is a server certificate the realm does not accept. Its text
// says which certificate, what is wrong with it and what to do, so the
// unavailable answer says it too; markDown logs msg, attrs and hint.
type certError struct {
	err    error  // verifyPeer's error
	msg    string // constant log message: what is wrong
	detail string // which certificate and why
	hint   string // what to do
	attrs  []any  // key/value pairs naming the certificate, for the log line
}

func (e *certError) Error() string {
	return "server certificate rejected: " + e.detail + ": " + e.hint
}

func (e *certError) Unwrap() error { return e.err }

// certError explains why verifyPeer refused the server's certificate, in
// the operator's terms: a certificate outside its validity period (named
// with its dates: renew it or fix a clock), one no trusted CA issued (the
// CA setting in use), one issued for other names (the names, and
// verify_hostnames); any other reason as verifyPeer said it.
func (t *TLSConfig) certError(err error) *certError {
	subject := func(c *x509.Certificate) string {
		if s := c.Subject.String(); s != "" {
			return s
		}
		return "(empty subject)"
	}
	trust := "pemtrustedcas_filepath or pemtrustedcas_content (neither is set: the system roots are used)"
	switch {
	case t.CAFile != "":
		trust = fmt.Sprintf("pemtrustedcas_filepath (%s)", t.CAFile)
	case len(t.CAPEM) > 0:
		trust = "pemtrustedcas_content (or in a file named by pemtrustedcas_filepath)"
	}
	e := &certError{err: err, msg: "ldap server certificate is not trusted", detail: err.Error(),
		hint: "the certificate must be issued by a CA in " + trust}
	var invalid x509.CertificateInvalidError
	var unknown x509.UnknownAuthorityError
	var name x509.HostnameError
	switch {
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired && invalid.Cert != nil:
		c, now := invalid.Cert, time.Now().UTC()
		from, until := c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339)
		e.attrs = []any{"subject", subject(c), "not_before", from, "not_after", until}
		if now.Before(c.NotBefore) {
			e.msg = "ldap server certificate is not yet valid"
			e.detail = fmt.Sprintf("certificate %q is not valid yet: it is valid from %s until %s, and the time here is %s",
				subject(c), from, until, now.Format(time.RFC3339))
			e.hint = "fix the clock of this machine if it is behind, or install a certificate valid now on the server"
		} else {
			e.msg = "ldap server certificate has expired"
			e.detail = fmt.Sprintf("certificate %q has expired: it was valid from %s until %s, and the time here is %s",
				subject(c), from, until, now.Format(time.RFC3339))
			e.hint = "renew the certificate on the server (or the CA certificate, when that is the one named), or fix the clock of this machine if it is ahead"
		}
	case errors.As(err, &unknown) && unknown.Cert != nil:
		c := unknown.Cert
		e.attrs = []any{"subject", subject(c), "issuer", c.Issuer.String()}
		e.detail = fmt.Sprintf("certificate %q is issued by %q, which is not a trusted CA", subject(c), c.Issuer.String())
		e.hint = fmt.Sprintf("add the CA certificate %q to %s", c.Issuer.String(), trust)
	case errors.As(err, &name) && name.Certificate != nil:
		c := name.Certificate
		names := slices.Clone(c.DNSNames)
		for _, ip := range c.IPAddresses {
			names = append(names, ip.String())
		}
		listed := "no DNS names or IP addresses (Go ignores the common name)"
		if len(names) > 0 {
			listed = strings.Join(names, ", ")
		}
		e.msg = "ldap server certificate does not match the host name"
		e.attrs = []any{"subject", subject(c), "host_name", name.Host, "certificate_names", listed}
		e.detail = fmt.Sprintf("the host name %q is not among the names of certificate %q (it lists %s)", name.Host, subject(c), listed)
		e.hint = "name the server in hosts by a name the certificate lists, or reissue the certificate with this name; verify_hostnames: false skips only this check (the chain is still verified)"
	}
	return e
}

func certPool(b []byte) (*x509.CertPool, error) {
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, errors.New("no PEM certificate found")
	}
	return p, nil
}

// keyPair parses a certificate chain and its key. An encrypted key is
// accepted in the legacy PEM form (Proc-Type: 4,ENCRYPTED); encrypted
// PKCS#8 is not supported.
func keyPair(certPEM, keyPEM []byte, password string) (tls.Certificate, error) {
	block, rest := pem.Decode(keyPEM)
	if block == nil {
		return tls.Certificate{}, errors.New("no PEM private key found")
	}
	switch {
	case block.Type == "ENCRYPTED PRIVATE KEY":
		return tls.Certificate{}, errors.New("encrypted PKCS#8 keys are not supported: decrypt the key or use the legacy PEM encryption")
	//lint:ignore SA1019 legacy PEM encryption is what pemkey_password means; a local key file offers no padding oracle
	case x509.IsEncryptedPEMBlock(block):
		if password == "" {
			return tls.Certificate{}, errors.New("the private key is encrypted and pemkey_password is empty")
		}
		//lint:ignore SA1019 see above
		der, err := x509.DecryptPEMBlock(block, []byte(password))
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("decrypting the private key: %w", err)
		}
		headers := map[string]string{}
		keyPEM = slices.Concat(pem.EncodeToMemory(&pem.Block{Type: block.Type, Headers: headers, Bytes: der}), rest)
	}
	return tls.X509KeyPair(certPEM, keyPEM)
}
