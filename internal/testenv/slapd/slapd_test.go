package slapd_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/internal/testenv/slapd"
)

const people = `dn: dc=example,dc=org
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: ou=people,dc=example,dc=org
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Liddell
userPassword: alicepw
description: ldap://${host}:${port}/
`

func dial(t *testing.T, url string, tc *tls.Config) (*ldap.Conn, error) {
	t.Helper()
	return ldap.DialURL(url, ldap.DialWithDialer(&net.Dialer{Timeout: 2 * time.Second}), ldap.DialWithTLSConfig(tc))
}

func pool(t *testing.T, pemBytes []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in PEM")
	}
	return p
}

func TestStart_BindsOverPlainStartTLSAndLDAPS(t *testing.T) {
	s := slapd.Start(t, slapd.WithLDIF(people))
	trusted := &tls.Config{RootCAs: pool(t, s.CAPEM), ServerName: "localhost"}
	const alice = "uid=alice,ou=people,dc=example,dc=org"
	tests := []struct {
		name     string
		url      string
		startTLS bool
	}{
		{name: "plain", url: s.LDAPURL()},
		{name: "starttls", url: s.LDAPURL(), startTLS: true},
		{name: "ldaps", url: s.LDAPSURL()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := dial(t, tt.url, trusted)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if tt.startTLS {
				if err := c.StartTLS(trusted); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Bind(alice, "alicepw"); err != nil {
				t.Fatalf("bind with the right password: %v", err)
			}
			err = c.Bind(alice, "wrong")
			if !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				t.Fatalf("bind with a wrong password: got %v, want invalid credentials", err)
			}
		})
	}
}

func TestStart_ExpandsAddressPlaceholders(t *testing.T) {
	s := slapd.Start(t, slapd.WithLDIF(people))
	c, err := dial(t, s.LDAPURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest("dc=example,dc=org", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(uid=alice)", []string{"description"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("search: %v, %d entries", err, len(res.Entries))
	}
	if got, want := res.Entries[0].GetAttributeValue("description"), "ldap://"+s.LDAPAddr()+"/"; got != want {
		t.Fatalf("description = %q, want %q", got, want)
	}
}

func TestStart_OtherCADoesNotTrustTheServer(t *testing.T) {
	s := slapd.Start(t)
	_, err := dial(t, s.LDAPSURL(), &tls.Config{RootCAs: pool(t, s.OtherCAPEM), ServerName: "localhost"})
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("got %v, want an unknown authority error", err)
	}
}

func TestStart_ClientCertificateBindsWithSASLExternal(t *testing.T) {
	s := slapd.Start(t)
	cert, err := tls.LoadX509KeyPair(s.ClientCertFile, s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := dial(t, s.LDAPSURL(), &tls.Config{RootCAs: pool(t, s.CAPEM), ServerName: "localhost", Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.ExternalBind(); err != nil {
		t.Fatal(err)
	}
	who, err := c.WhoAmI(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(who.AuthzID, "dn:cn=realmd-client,o=realmd-test") {
		t.Fatalf("authzid = %q", who.AuthzID)
	}
}

func TestServer_StopThenStartKeepsPortsAndData(t *testing.T) {
	s := slapd.Start(t, slapd.WithLDIF(people))
	s.Add(`dn: uid=bob,ou=people,dc=example,dc=org
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Builder
`)
	url := s.LDAPURL()
	s.Stop()
	if s.Running() {
		t.Fatal("running after Stop")
	}
	if c, err := dial(t, url, nil); err == nil {
		c.Close()
		t.Fatal("dial succeeded while slapd is stopped")
	}
	s.Start()
	if s.LDAPURL() != url {
		t.Fatalf("url changed from %s to %s", url, s.LDAPURL())
	}
	c, err := dial(t, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest("ou=people,dc=example,dc=org", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(|(uid=alice)(uid=bob))", []string{"uid"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Entries) != 2 {
		t.Fatalf("found %d entries after restart, want 2", len(res.Entries))
	}
}

func TestServer_AddPopulatesMemberOf(t *testing.T) {
	s := slapd.Start(t, slapd.WithLDIF(people))
	s.Add(`dn: cn=devs,dc=example,dc=org
objectClass: groupOfNames
cn: devs
member: uid=alice,ou=people,dc=example,dc=org
`)
	c, err := dial(t, s.LDAPURL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	res, err := c.Search(ldap.NewSearchRequest("uid=alice,ou=people,dc=example,dc=org", ldap.ScopeBaseObject, ldap.NeverDerefAliases,
		0, 0, false, "(objectClass=*)", []string{"memberOf"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Entries[0].GetAttributeValues("memberOf"); len(got) != 1 || !strings.EqualFold(got[0], "cn=devs,dc=example,dc=org") {
		t.Fatalf("memberOf = %q", got)
	}
}
