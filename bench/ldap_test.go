package bench

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/realmd/realmd/internal/e2e"
	"github.com/realmd/realmd/internal/testenv/slapd"
)

// ldapUsers is a small directory: bench users whose password is "secret".
const ldapUsers = `dn: o=BENCH
objectClass: organization
o: BENCH

dn: ou=people,o=BENCH
objectClass: organizationalUnit
ou: people
` + `
dn: uid=bench,ou=people,o=BENCH
objectClass: inetOrgPerson
uid: bench
cn: bench
sn: bench
userPassword: secret
`

// ldapConfig writes a basic + LDAP backend config for s.
func ldapConfig(b *testing.B, s *slapd.Server, pool, startTLS bool, ttlMinutes int) string {
	b.Helper()
	dir := b.TempDir()
	tls := ""
	if startTLS {
		tls = fmt.Sprintf("            enable_start_tls: true\n            pemtrustedcas_filepath: %q\n", s.CAFile)
	}
	files := map[string]string{
		"config.yml": fmt.Sprintf(`_meta: {type: config, config_version: 2}
config:
  dynamic:
    authc:
      ldap:
        order: 0
        http_authenticator: {type: basic, challenge: true}
        authentication_backend:
          type: ldap
          config:
            hosts: ["%s"]
            pool: {enabled: %t}
            userbase: "ou=people,o=BENCH"
            usersearch: "(uid={0})"
            username_attribute: uid
`, s.LDAPAddr(), pool) + tls,
		"internal_users.yml": "_meta: {type: internalusers, config_version: 2}\n",
		"roles_mapping.yml":  "_meta: {type: rolesmapping, config_version: 2}\n",
		"roles.yml":          "_meta: {type: roles, config_version: 2}\n",
		"realmd.yml":         fmt.Sprintf("cache: {ttl_minutes: %d}\n", ttlMinutes),
	}
	e2e.WriteFiles(b, dir, files)
	return dir
}

// BenchmarkLDAP measures GET /auth with a basic authenticator and the LDAP
// backend against a real slapd: cached, and uncached with the connection
// pool and with a fresh connection per request, in plain LDAP and StartTLS.
func BenchmarkLDAP(b *testing.B) {
	s := slapd.Start(b, slapd.WithSuffix("o=BENCH"), slapd.WithLDIF(ldapUsers))
	auth := []string{"Basic " + base64.StdEncoding.EncodeToString([]byte("bench:secret"))}
	b.Run("cached", func(b *testing.B) {
		load(b, e2e.Start(b, ldapConfig(b, s, true, false, 60), "--log-level", "warn").URL+"/auth", auth)
	})
	for _, tls := range []bool{false, true} {
		name := map[bool]string{false: "ldap", true: "starttls"}[tls]
		b.Run("uncached-pooled-"+name, func(b *testing.B) {
			load(b, e2e.Start(b, ldapConfig(b, s, true, tls, 0), "--log-level", "warn").URL+"/auth", auth)
		})
		b.Run("uncached-fresh-connection-"+name, func(b *testing.B) {
			load(b, e2e.Start(b, ldapConfig(b, s, false, tls, 0), "--log-level", "warn").URL+"/auth", auth)
		})
		addRatio("LDAP /auth uncached ("+name+"): pooled / fresh connection", "BenchmarkLDAP/uncached-pooled-"+name, "BenchmarkLDAP/uncached-fresh-connection-"+name)
	}
	addRatio("LDAP /auth: cached / uncached (pooled, ldap)", "BenchmarkLDAP/cached", "BenchmarkLDAP/uncached-pooled-ldap")
}
