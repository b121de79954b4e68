package core

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/pipeline"
	"github.com/realmd/realmd/sdk"
	"github.com/realmd/realmd/sdk/pattern"
)

// newRequest turns an HTTP request into what the pipeline reads. For
// forward-auth the original method and URI come from the proxy's
// X-Forwarded-* or X-Original-* headers, and the query parameters realms
// read (jwt_url_parameter, auth_type) from the original URI's query: the
// /auth request's own URL never carries the client's query behind a proxy.
// A repeated header is its last line only (see lastValues), and the query
// is read as OpenSearch reads it (see parseQuery).
func newRequest(r *http.Request, xff *xffResolver) (*sdk.Request, pipeline.Caller, error) {
	req := &sdk.Request{
		Header:        lastValues(r.Header),
		SocketAddress: r.RemoteAddr,
	}
	req.Method = firstNonEmpty(req.HeaderValue("X-Forwarded-Method"), req.HeaderValue("X-Original-Method"), r.Method)
	if uri := firstNonEmpty(req.HeaderValue("X-Forwarded-Uri"), req.HeaderValue("X-Original-Uri")); uri != "" {
		req.Path, req.Query = uri, parseQuery(queryOf(uri))
	} else {
		req.Path, req.Query = r.URL.RequestURI(), parseQuery(queryOf(firstNonEmpty(r.RequestURI, "?"+r.URL.RawQuery)))
	}
	if r.TLS != nil {
		for _, c := range r.TLS.PeerCertificates {
			req.PeerCertificates = append(req.PeerCertificates, c.Raw)
		}
	}
	client, caller, err := xff.resolve(r.Context(), r.RemoteAddr, req)
	if err != nil {
		return nil, caller, err
	}
	req.ClientAddress = client
	return req, caller, nil
}

// queryOf is the query of a request target as OpenSearch finds it: after
// the first `?` of what precedes the first `#` anywhere in it, so
// "/app#x?a=1" has none (Go's request parsing keeps "#x" in the path and
// finds a=1; found by review).
func queryOf(uri string) string {
	uri, _, _ = strings.Cut(uri, "#")
	_, query, _ := strings.Cut(uri, "?")
	return query
}

// parseQuery reads a query string as OpenSearch's RestUtils.decodeQueryString
// does, which is what its REST layer authenticates with (NettyRequest.params):
// `&` and `;` both end a parameter, the first `=` ends its name (one that
// starts the parameter is skipped: "=a=b" is a=b), a name without `=` has the
// value "", a repeated name keeps its last value (so each name here has one
// value), and a malformed `%` escape anywhere leaves no parameters at all
// (see decodeComponent). Go's url.ParseQuery kept the first value and
// dropped a pair holding `;` (found by review: auth_type read other than in
// OpenSearch).
func parseQuery(q string) map[string][]string {
	params := map[string][]string{}
	malformed := false
	add := func(name, value string) {
		n, ok := decodeComponent(name)
		v, ok2 := decodeComponent(value)
		malformed = malformed || !ok || !ok2
		params[n] = []string{v}
	}
	// The loop of decodeQueryString: pos starts the text not yet read.
	name, named, pos := "", false, 0
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '=' && !named:
			if pos != i {
				name, named = q[pos:i], true
			}
			pos = i + 1
		case c == '&' || c == ';':
			if named {
				add(name, q[pos:i])
				named = false
			} else if pos != i {
				add(q[pos:i], "")
			}
			pos = i + 1
		}
	}
	switch {
	case pos != len(q) && named:
		add(name, q[pos:])
	case pos != len(q):
		add(q[pos:], "")
	case named:
		add(name, "")
	}
	if malformed {
		return map[string][]string{}
	}
	return params
}

// decodeComponent decodes one name or value as RestUtils.decodeComponent
// does: `+` is a space, `%%` is `%`, `%` and two hex digits is that byte;
// any other `%` (a bad digit, or too near the end) is malformed (ok false).
// url.QueryUnescape refused `%%`, which emptied the whole query where
// OpenSearch reads it (found by review).
func decodeComponent(s string) (string, bool) {
	if !strings.ContainsAny(s, "%+") {
		return s, true
	}
	buf := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			buf = append(buf, ' ')
		case c != '%':
			buf = append(buf, c)
		case i+1 < len(s) && s[i+1] == '%':
			buf = append(buf, '%')
			i++
		case i+2 < len(s):
			b, err := hex.DecodeString(s[i+1 : i+3])
			if err != nil {
				return "", false
			}
			buf = append(buf, b[0])
			i += 2
		default:
			return "", false
		}
	}
	return string(buf), true
}

// lastValues returns h with each header's last value only, as OpenSearch's
// REST layer reads headers (NettyRequest.getHeaders keeps one value per name,
// a later line replacing an earlier one), so that every realm, one built on
// an older SDK too, and the cache key see what OpenSearch sees. h itself when
// no header repeats.
func lastValues(h http.Header) map[string][]string {
	repeated := false
	for _, v := range h {
		repeated = repeated || len(v) > 1
	}
	if !repeated {
		return h
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[k] = v[max(len(v)-1, 0):]
	}
	return out
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// xffResolver finds the client behind trusted proxies, as OpenSearch's port
// of Tomcat's RemoteIpValve does (spec 2.9).
type xffResolver struct {
	enabled  bool
	internal *regexp.Regexp // nil: no proxy is trusted
	header   string
}

func newXFFResolver(x config.XFF) (*xffResolver, error) {
	res := &xffResolver{enabled: x.Enabled, header: x.RemoteIPHeader}
	if res.header == "" {
		res.header = "X-Forwarded-For"
	}
	if x.Enabled && x.InternalProxies != "" {
		re, err := pattern.CompileWhole(x.InternalProxies)
		if err != nil {
			return nil, fmt.Errorf("config.dynamic.http.xff.internalProxies: %w", err)
		}
		res.internal = re
	}
	return res, nil
}

// resolve returns the client address (ip:port) of a request from
// remoteAddr whose headers req holds, and the caller for role mapping. A
// client given by name is resolved through DNS, its answer kept as Java
// keeps it (hostLookups); a name that does not resolve is an error
// (OpenSearch answers 500). Only the header's last line counts, as for
// every header (req's, see lastValues; found by review: realmd read every
// line, so a client's own line before the proxy's named the client).
func (x *xffResolver) resolve(ctx context.Context, remoteAddr string, req *sdk.Request) (string, pipeline.Caller, error) {
	host, port, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host, port = remoteAddr, "0"
	}
	caller := pipeline.Caller{IP: host}
	if !x.enabled || x.internal == nil || !matchAddress(x.internal.MatchString, host) {
		return remoteAddr, caller, nil
	}
	value := req.HeaderValue(x.header)
	if value == "" {
		return remoteAddr, caller, nil
	}
	var entries []string
	for _, e := range strings.Split(value, ",") {
		if e = strings.TrimSpace(e); e != "" {
			entries = append(entries, e)
		}
	}
	if len(entries) == 0 {
		return remoteAddr, caller, nil
	}
	client := entries[0]
	for i := len(entries) - 1; i >= 0; i-- {
		if !x.internal.MatchString(entries[i]) {
			client = entries[i]
			break
		}
	}
	ip := client
	if addr, err := parseClientAddr(client); err == nil {
		// A zone (fe80::1%eth0) names the sender's interface, means nothing
		// here, and may hold any bytes a client chose. An IPv4-mapped
		// address (from a proxy listening dual-stack) is the IPv4 address,
		// as in OpenSearch, so that hosts patterns such as 192.0.2.* match.
		ip = addr.WithZone("").Unmap().String()
		caller = pipeline.Caller{IP: ip}
	} else {
		addrs, err := hostLookups.Lookup(ctx, client)
		if errors.Is(err, errTooManyLookups) {
			return "", caller, fmt.Errorf("cannot resolve %s client %q now: %w", x.header, client, err)
		}
		if err != nil || len(addrs) == 0 {
			return "", caller, fmt.Errorf("cannot resolve %s client %q", x.header, client)
		}
		ip = addrs[0]
		caller = pipeline.Caller{IP: ip, Host: client}
	}
	p, _ := strconv.Atoi(port)
	return net.JoinHostPort(ip, strconv.Itoa(p)), caller, nil
}

// parseClientAddr parses an X-Forwarded-For entry that is an address. An
// IPv6 address may be in brackets ([2001:db8::1]), as Java's
// InetAddress.getByName accepts it; brackets around anything else, or
// followed by a port ([2001:db8::1]:443), are no address there either, and
// neither is an address with a port (192.0.2.1:80): the caller then looks
// the text up as a name, which fails, as in OpenSearch.
func parseClientAddr(s string) (netip.Addr, error) {
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		a, err := netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() {
			return netip.Addr{}, fmt.Errorf("not an IPv6 address in brackets: %q", s)
		}
		return a, nil
	}
	return netip.ParseAddr(s)
}

// matchAddress reports whether match accepts ip, an address as Go writes
// it, or the same address as Java's InetAddress.getHostAddress writes it,
// which is what OpenSearch matches (::1 is 0:0:0:0:0:0:0:1 there). Either
// form counts: an operator who wrote ::1 meant it, and a pattern copied
// from an OpenSearch config keeps working. Only an IPv6 address has a
// second form.
func matchAddress(match func(string) bool, ip string) bool {
	if match(ip) {
		return true
	}
	j := pipeline.JavaHostAddress(ip)
	return j != ip && match(j)
}

// lookupAddr returns the host name of ip that hosts patterns and
// ignore_hosts match in ip-hostname-lookup mode: its first reverse DNS name
// that resolves back to ip, as Java's InetAddress.getHostName confirms it,
// or none. Whoever runs the reverse zone of an address can name it
// anything, admin.corp.example included; only the forward zone proves the
// name (found by review: the unconfirmed names were matched).
func lookupAddr(ctx context.Context, ip string) ([]string, error) {
	want, err := netip.ParseAddr(ip)
	if err != nil {
		return nil, err
	}
	want = want.WithZone("").Unmap()
	names, err := resolver.LookupAddr(ctx, ip)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		addrs, err := resolver.LookupNetIP(ctx, "ip", name)
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if a.WithZone("").Unmap() == want {
				return []string{name}, nil
			}
		}
	}
	return nil, nil
}

// dnsResolver is the part of *net.Resolver that core's lookups use (through
// the caches in resolver.go); resolver is a variable for tests.
type dnsResolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

var resolver dnsResolver = net.DefaultResolver
