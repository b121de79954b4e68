package jwt

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// javaURI reports whether Java's java.net.URI(String) accepts s: the URI
// grammar of RFC 2396 with RFC 2732's IPv6 literals, an empty authority
// before a path, and visible non-ASCII characters allowed wherever escapes
// are. Nimbus (OpenSearch's JWKS mode) parses the jku and x5u header
// members with it and refuses the token when it throws.
func javaURI(s string) bool {
	u := []rune(s)
	n := len(u)
	p := uriStop(u, 0, n, "/?#", ":")
	if p >= 0 && p < n && u[p] == ':' {
		if p == 0 || !uriIn(u[0], uriAlpha) || uriScan(u, 1, p, uriScheme) != p {
			return false
		}
		p++
		if p < n && u[p] == '/' {
			if p = uriHierarchical(u, p, n); p < 0 {
				return false
			}
		} else { // opaque
			q := uriStop(u, p, n, "", "#")
			if q <= p || uriScan(u, p, q, uricChars) != q {
				return false
			}
			p = q
		}
	} else if p = uriHierarchical(u, 0, n); p < 0 {
		return false
	}
	if p < n && u[p] == '#' {
		p = uriScan(u, p+1, n, uricChars)
	}
	return p == n
}

// Character classes of java.net.URI's parser. A class that contains
// uriEscaped (a NUL, which is never a URI character) also admits %XX
// escapes and visible non-ASCII characters; a class with "%" itself admits
// a bare percent sign.
const (
	uriAlpha      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	uriDigit      = "0123456789"
	uriHex        = uriDigit + "ABCDEFabcdef"
	uriAlphanum   = uriAlpha + uriDigit
	uriUnreserved = uriAlphanum + "-_.!~*'()"
	uriEscaped    = "\x00"
	uriScheme     = uriAlphanum + "+-."
	uricChars     = uriUnreserved + ";/?:@&=+$,[]" + uriEscaped
	uriPath       = uriUnreserved + ":@&=+$,;/" + uriEscaped
	uriUserinfo   = uriUnreserved + ";:&=+$," + uriEscaped
	uriRegName    = uriUnreserved + "$,;:@&=+" + uriEscaped
	uriServer     = uriUserinfo + "-.:@[]"
	uriScopeID    = uriAlphanum + "_."
)

func uriIn(c rune, class string) bool {
	return c > 0 && c < 0x80 && strings.ContainsRune(class, c)
}

// uriScan returns the end of the longest run of class characters from
// start, or -1 for a malformed escape inside the run (Java throws there).
func uriScan(u []rune, start, end int, class string) int {
	escapes := strings.Contains(class, uriEscaped)
	p := start
	for p < end {
		c := u[p]
		switch {
		case uriIn(c, class):
			p++
		case escapes && c == '%':
			if p+3 > end || !uriIn(u[p+1], uriHex) || !uriIn(u[p+2], uriHex) {
				return -1
			}
			p += 3
		case escapes && c > 128 && !unicode.In(c, unicode.Zs, unicode.Zl, unicode.Zp) && !(c >= 0x7f && c <= 0x9f):
			p++
		default:
			return p
		}
	}
	return p
}

// uriStop returns the index of the first stop character from start, end
// when there is none, or -1 when an err character comes first.
func uriStop(u []rune, start, end int, err, stop string) int {
	for p := start; p < end; p++ {
		if strings.ContainsRune(err, u[p]) {
			return -1
		}
		if strings.ContainsRune(stop, u[p]) {
			return p
		}
	}
	return end
}

// uriHierarchical parses [//authority]path[?query] from p and returns
// where it ends, or -1.
func uriHierarchical(u []rune, p, n int) int {
	if p+1 < n && u[p] == '/' && u[p+1] == '/' {
		p += 2
		q := uriStop(u, p, n, "", "/?#")
		switch {
		case q > p:
			if !uriAuthority(u[p:q]) {
				return -1
			}
			p = q
		case q == n:
			return -1 // "//" with nothing after it
		}
	}
	q := uriStop(u, p, n, "", "?#")
	if uriScan(u, p, q, uriPath) != q {
		return -1
	}
	p = q
	if p < n && u[p] == '?' {
		q = uriStop(u, p+1, n, "", "#")
		if uriScan(u, p+1, q, uricChars) != q {
			return -1
		}
		p = q
	}
	return p
}

// uriAuthority reports whether a is a registry-based authority or a
// server ([userinfo@]host[:port]).
func uriAuthority(a []rune) bool {
	n := len(a)
	switch uriScan(a, 0, n, uriRegName) {
	case n:
		return true
	case -1:
		return false
	}
	server := uriServer
	if slices.Contains(a, ']') { // an IPv6 literal: a bare % may start its scope
		server += "%"
	}
	return uriScan(a, 0, n, server) == n && uriServerOK(a)
}

func uriServerOK(a []rune) bool {
	n := len(a)
	p := 0
	if q := uriStop(a, 0, n, "", "@"); q < n {
		if uriScan(a, 0, q, uriUserinfo) != q {
			return false
		}
		p = q + 1
	}
	if p < n && a[p] == '[' {
		q := uriStop(a, p+1, n, "", "]")
		if q == n || q == p+1 {
			return false
		}
		addr := string(a[p+1 : q])
		if i := strings.IndexByte(addr, '%'); i >= 0 {
			scope := []rune(addr[i+1:])
			if len(scope) == 0 || uriScan(scope, 0, len(scope), uriScopeID) != len(scope) {
				return false
			}
			addr = addr[:i]
		}
		if i := strings.LastIndexByte(addr, ':'); i >= 0 && strings.Contains(addr[i:], ".") {
			// Java reads an embedded IPv4 address as uriIPv4 does, leading
			// zeros included; netip refuses those.
			v4 := []rune(addr[i+1:])
			if uriIPv4(v4, 0, len(v4)) != len(v4) {
				return false
			}
			addr = addr[:i+1] + "0.0.0.0"
		}
		ip, err := netip.ParseAddr(addr)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return false
		}
		p = q + 1
	} else {
		p = uriHost(a, p, n)
		if p < 0 {
			return false
		}
	}
	if p < n && a[p] == ':' {
		q := uriScan(a, p+1, n, uriDigit)
		if q > p+1 {
			if _, err := strconv.ParseInt(string(a[p+1:q]), 10, 32); err != nil {
				return false
			}
		}
		p = q
	}
	return p == n
}

// uriHost parses an IPv4 address or a host name from p and returns where
// it ends (at the end or a colon), or -1.
func uriHost(a []rune, p, n int) int {
	if q := uriIPv4(a, p, n); q > p && (q == n || a[q] == ':') {
		return q
	}
	start, last := p, -1
	for p < n {
		q := uriScan(a, p, n, uriAlphanum)
		if q <= p {
			break
		}
		last = p
		p = q
		if q = uriScan(a, p, n, uriAlphanum+"-"); q > p {
			if a[q-1] == '-' {
				return -1
			}
			p = q
		}
		if p >= n || a[p] != '.' {
			break
		}
		p++
	}
	if p < n && a[p] != ':' || last < 0 {
		return -1
	}
	if last > start && !uriIn(a[last], uriAlpha) {
		return -1
	}
	return p
}

// uriIPv4 parses a dotted quad of decimal bytes from p and returns where
// it ends, or p when there is none.
func uriIPv4(a []rune, p, n int) int {
	start := p
	for i := range 4 {
		if i > 0 {
			if p >= n || a[p] != '.' {
				return start
			}
			p++
		}
		q := uriScan(a, p, n, uriDigit)
		if q <= p || q-p > 3 {
			return start
		}
		if v, _ := strconv.Atoi(string(a[p:q])); v > 255 {
			return start
		}
		p = q
	}
	return p
}
