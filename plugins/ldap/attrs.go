package ldap

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/realmd/realmd/sdk/pattern"
)

// Attribute names of the user an LDAP backend returns (spec 4.3).
const (
	AttrOriginalUsername = "ldap.original.username"
	AttrDN               = "ldap.dn"
	AttrPrefix           = "attr.ldap."
)

// binaryAttributes are attributes whose values are binary by syntax; JNDI
// (and so OpenSearch) treats them as binary whatever their content.
var binaryAttributes = map[string]bool{
	"userpassword": true, "jpegphoto": true, "photo": true, "audio": true, "thumbnailphoto": true,
	"usercertificate": true, "cacertificate": true, "authorityrevocationlist": true,
	"certificaterevocationlist": true, "crosscertificatepair": true, "deltarevocationlist": true,
	"userpkcs12": true, "usersmimecertificate": true, "supportedalgorithms": true,
	"objectguid": true, "objectsid": true, "javaserializeddata": true, "msexchmailboxguid": true,
}

// userAttributes builds a user's attributes from its entry: the login name,
// the DN, and attr.ldap.<name> with the first value of every attribute that
// is not binary, whose name does not contain "password", whose first value
// is non-empty and at most maxLen characters long, and whose name matches
// allow. maxLen 0 keeps only the first two.
func userAttributes(login string, e *goldap.Entry, maxLen int, allow pattern.Set) map[string]string {
	m := map[string]string{AttrOriginalUsername: login, AttrDN: e.DN}
	if maxLen <= 0 {
		return m
	}
	for _, a := range e.Attributes {
		if len(a.Values) == 0 || isBinary(a) || strings.Contains(strings.ToLower(a.Name), "password") {
			continue
		}
		v := a.Values[0]
		if v == "" || javaLength(v) > maxLen || !allow.Match(a.Name) {
			continue
		}
		m[AttrPrefix+a.Name] = v
	}
	return m
}

func isBinary(a *goldap.EntryAttribute) bool {
	name := strings.ToLower(a.Name)
	base, options, _ := strings.Cut(name, ";")
	if binaryAttributes[base] || strings.Contains(";"+options+";", ";binary;") {
		return true
	}
	for _, b := range a.ByteValues {
		if !utf8.Valid(b) {
			return true
		}
		for _, c := range b {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return true
			}
		}
	}
	return false
}

// javaLength is the length Java's String.length() reports: UTF-16 units.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
