// Package slapd runs a private OpenLDAP server for integration tests: it
// installs slapd if missing, starts it on free loopback ports from a temp
// dir with ldap:// (StartTLS) and ldaps:// and a private CA, loads LDIF and
// stops it when the test ends.
package slapd

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/internal/testenv"
)

// packages are the Debian packages the harness needs: slapd brings slapd and
// slapadd, ldap-utils brings ldapadd.
var packages = []string{"slapd", "ldap-utils"}

// DefaultSuffix is the naming context when no WithSuffix option is given.
const DefaultSuffix = "dc=example,dc=org"

// Option configures Start.
type Option func(*options)

type options struct {
	suffixes []string
	ldifs    []string
	logLevel string
}

// WithSuffix adds a naming context (one mdb database each, with its own
// admin cn=admin,<suffix>). The first suffix is Server.Suffix.
func WithSuffix(suffix string) Option {
	return func(o *options) { o.suffixes = append(o.suffixes, suffix) }
}

// WithLDIF loads entries with slapadd before slapd first starts. slapadd
// runs the schema check but adds missing naming attributes itself, so
// fixtures written for lenient servers load. ${host}, ${port} and
// ${ldaps_port} are replaced by the server's address; every entry of one
// LDIF must belong to the same suffix. Overlays such as memberof do not run
// for these entries: use Server.Add for data that needs them.
func WithLDIF(ldif string) Option {
	return func(o *options) { o.ldifs = append(o.ldifs, ldif) }
}

// WithLogLevel sets slapd's loglevel (default "none"); the log is printed
// when the test fails.
func WithLogLevel(level string) Option {
	return func(o *options) { o.logLevel = level }
}

// Server is a running slapd. Its fields are read-only. The embedded
// Process stops slapd and keeps its data and ports (Stop), brings it back
// (Start), reports whether it runs (Running) and returns its log (Log).
type Server struct {
	*testenv.Process

	// Dir holds slapd.conf, the databases, the certificates and the log.
	Dir string
	// Suffix is the first naming context; Suffixes lists all of them.
	Suffix   string
	Suffixes []string
	// AdminDN is the rootdn of Suffix; AdminPassword is every rootdn's password.
	AdminDN       string
	AdminPassword string
	// Host is the loopback address slapd listens on.
	Host      string
	LDAPPort  int
	LDAPSPort int
	// CAFile (CAPEM) is the CA that signed the server certificate.
	CAFile string
	CAPEM  []byte
	// OtherCAFile (OtherCAPEM) is a CA that signed nothing slapd presents:
	// trusting only it makes the server certificate untrusted.
	OtherCAFile string
	OtherCAPEM  []byte
	// ClientCertFile and ClientKeyFile are a client certificate signed by CA,
	// subject cn=realmd-client,o=realmd-test. slapd asks for client
	// certificates but does not require them; with one, SASL EXTERNAL binds
	// as that subject.
	ClientCertFile string
	ClientKeyFile  string

	t    testing.TB
	bin  struct{ slapd, slapadd, ldapadd string }
	conf string
}

// Start installs slapd if needed, starts it and registers its shutdown with
// t.Cleanup. When slapd cannot be installed the test is skipped, unless the
// CI environment variable is "true", where it fails. In -short mode the
// test is skipped: it is an integration test.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	testenv.SkipShort(t, "a real slapd")
	o := options{logLevel: "none"}
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.suffixes) == 0 {
		o.suffixes = []string{DefaultSuffix}
	}
	bins := testenv.Install(t, packages, "slapd", "slapadd", "ldapadd")
	for _, dir := range []string{schemaDir, moduleDir} {
		if _, err := os.Stat(dir); err != nil {
			testenv.Unavailable(t, "slapd is installed but %s is missing: %v", dir, err)
		}
	}
	s := &Server{
		Dir:           t.TempDir(),
		Suffix:        o.suffixes[0],
		Suffixes:      o.suffixes,
		AdminDN:       adminDN(o.suffixes[0]),
		AdminPassword: randomHex(12),
		Host:          "127.0.0.1",
		t:             t,
	}
	s.bin.slapd, s.bin.slapadd, s.bin.ldapadd = bins[0], bins[1], bins[2]
	s.conf = filepath.Join(s.Dir, "slapd.conf")
	files, err := writeTLS(s.Dir)
	if err != nil {
		t.Fatalf("slapd: %v", err)
	}
	s.CAFile, s.CAPEM = files.CA, files.caPEM
	s.OtherCAFile, s.OtherCAPEM = files.OtherCA, files.otherCAPEM
	s.ClientCertFile, s.ClientKeyFile = files.ClientCert, files.ClientKey
	s.Process = testenv.NewProcess(t, testenv.Command{
		Name:  "slapd",
		New:   s.command,
		Log:   filepath.Join(s.Dir, "slapd.log"),
		Ready: s.ping,
	})
	// Every failed start is tried again on new ports with rebuilt data.
	if err := s.Launch(func() error { return s.build(o, files) }); err != nil {
		t.Fatalf("slapd: %v", err)
	}
	return s
}

const (
	schemaDir = "/etc/ldap/schema"
	moduleDir = "/usr/lib/ldap"
)

// build picks ports, writes slapd.conf and loads the offline LDIF.
func (s *Server) build(o options, files *tlsFiles) error {
	ports, err := testenv.FreePorts(2)
	if err != nil {
		return err
	}
	s.LDAPPort, s.LDAPSPort = ports[0], ports[1]
	if err := s.writeConf(o, files); err != nil {
		return err
	}
	for _, ldif := range o.ldifs {
		if err := s.slapadd(s.expand(ldif)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) writeConf(o options, files *tlsFiles) error {
	var b strings.Builder
	for _, schema := range []string{"core", "cosine", "inetorgperson", "nis"} {
		fmt.Fprintf(&b, "include %s/%s.schema\n", schemaDir, schema)
	}
	fmt.Fprintf(&b, "modulepath %s\nmoduleload back_mdb\nmoduleload memberof\n", moduleDir)
	fmt.Fprintf(&b, "pidfile %s\nargsfile %s\nloglevel %s\n",
		filepath.Join(s.Dir, "slapd.pid"), filepath.Join(s.Dir, "slapd.args"), o.logLevel)
	fmt.Fprintf(&b, "TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\nTLSVerifyClient allow\n",
		files.CA, files.ServerCert, files.ServerKey)
	for i, suffix := range o.suffixes {
		db := filepath.Join(s.Dir, "db"+strconv.Itoa(i))
		if err := os.RemoveAll(db); err != nil {
			return err
		}
		if err := os.MkdirAll(db, 0o700); err != nil {
			return err
		}
		fmt.Fprintf(&b, "\ndatabase mdb\nmaxsize 104857600\nsuffix %q\nrootdn %q\nrootpw %s\ndirectory %s\n",
			suffix, adminDN(suffix), s.AdminPassword, db)
		b.WriteString("index objectClass eq\n")
		b.WriteString("overlay memberof\nmemberof-refint TRUE\n")
		b.WriteString("access to attrs=userPassword by self write by anonymous auth by * none\n")
		b.WriteString("access to * by * read\n")
	}
	return os.WriteFile(s.conf, []byte(b.String()), 0o600)
}

// expand replaces the address placeholders of an LDIF.
func (s *Server) expand(ldif string) string {
	return strings.NewReplacer(
		"${host}", s.Host,
		"${port}", strconv.Itoa(s.LDAPPort),
		"${ldaps_port}", strconv.Itoa(s.LDAPSPort),
	).Replace(ldif)
}

// suffixOf returns the suffix the first entry of ldif belongs to.
func (s *Server) suffixOf(ldif string) (string, error) {
	dn := ""
	for _, line := range strings.Split(ldif, "\n") {
		if v, ok := strings.CutPrefix(line, "dn:"); ok && !strings.HasPrefix(v, ":") {
			dn = strings.ToLower(strings.TrimSpace(v))
			break
		}
	}
	best := ""
	for _, suffix := range s.Suffixes {
		if strings.HasSuffix(dn, strings.ToLower(suffix)) && len(suffix) > len(best) {
			best = suffix
		}
	}
	if best == "" {
		return "", fmt.Errorf("ldif entry %q is under none of the suffixes %q", dn, s.Suffixes)
	}
	return best, nil
}

func (s *Server) slapadd(ldif string) error {
	suffix, err := s.suffixOf(ldif)
	if err != nil {
		return err
	}
	path, err := s.writeTemp("add-*.ldif", ldif)
	if err != nil {
		return err
	}
	out, err := exec.Command(s.bin.slapadd, "-f", s.conf, "-b", suffix, "-l", path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("slapadd: %w\n%s", err, out)
	}
	return nil
}

// Add adds entries while slapd runs, with ldapadd as the admin of the
// suffix the first entry belongs to, so overlays (memberof) see them.
// ${host}, ${port} and ${ldaps_port} are replaced as in WithLDIF.
func (s *Server) Add(ldif string) {
	s.t.Helper()
	ldif = s.expand(ldif)
	suffix, err := s.suffixOf(ldif)
	if err != nil {
		s.t.Fatalf("slapd: %v", err)
	}
	path, err := s.writeTemp("online-*.ldif", ldif)
	if err != nil {
		s.t.Fatalf("slapd: %v", err)
	}
	out, err := exec.Command(s.bin.ldapadd, "-x", "-H", s.LDAPURL(), "-D", adminDN(suffix),
		"-w", s.AdminPassword, "-f", path).CombinedOutput()
	if err != nil {
		s.t.Fatalf("slapd: ldapadd: %v\n%s", err, out)
	}
}

func (s *Server) writeTemp(pattern, content string) (string, error) {
	f, err := os.CreateTemp(s.Dir, pattern)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		return "", err
	}
	return f.Name(), f.Close()
}

// LDAPURL is ldap://host:port (plain, StartTLS available).
func (s *Server) LDAPURL() string { return "ldap://" + s.LDAPAddr() }

// LDAPSURL is ldaps://host:port.
func (s *Server) LDAPSURL() string { return "ldaps://" + s.LDAPSAddr() }

// LDAPAddr is host:port of the plain listener.
func (s *Server) LDAPAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.LDAPPort)) }

// LDAPSAddr is host:port of the ldaps listener.
func (s *Server) LDAPSAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.LDAPSPort)) }

// AdminDNOf returns the rootdn of suffix.
func (s *Server) AdminDNOf(suffix string) string { return adminDN(suffix) }

func adminDN(suffix string) string { return "cn=admin," + suffix }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// command runs slapd in the foreground (-d 0) on the server's ports.
func (s *Server) command() (*exec.Cmd, error) {
	urls := fmt.Sprintf("ldap://%s/ ldaps://%s/", s.LDAPAddr(), s.LDAPSAddr())
	return exec.Command(s.bin.slapd, "-d", "0", "-n", "realmd-test-slapd", "-f", s.conf, "-h", urls), nil
}

// ping succeeds once both listeners accept and the root DSE answers.
func (s *Server) ping() error {
	if err := testenv.Listening(s.LDAPSAddr()); err != nil {
		return err
	}
	l, err := ldap.DialURL(s.LDAPURL(), ldap.DialWithDialer(&net.Dialer{Timeout: time.Second}))
	if err != nil {
		return err
	}
	defer l.Close()
	l.SetTimeout(time.Second)
	_, err = l.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 1, false,
		"(objectClass=*)", []string{"namingContexts"}, nil))
	return err
}
