package sdk

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// This file is the one translation table between sdk values and the wire.

var codeOf = []struct {
	err  error
	code pb.Code
}{
	{ErrMalformed, pb.Code_CODE_MALFORMED},
	{ErrUnavailable, pb.Code_CODE_UNAVAILABLE},
	{ErrNotConfigured, pb.Code_CODE_NOT_CONFIGURED},
	{ErrUnsupported, pb.Code_CODE_UNSUPPORTED},
	{ErrInternal, pb.Code_CODE_INTERNAL},
}

func errorToWire(err error) *pb.Error {
	if err == nil {
		return nil
	}
	code := pb.Code_CODE_INTERNAL
	for _, c := range codeOf {
		if errors.Is(err, c.err) {
			code = c.code
			break
		}
	}
	return &pb.Error{Code: code, Message: strings.ToValidUTF8(err.Error(), "\uFFFD")}
}

// wireError is an error that came back from a plugin. errors.Is matches the
// sentinel of its code; its text is the plugin's message.
type wireError struct {
	sentinel error
	msg      string
}

func (e *wireError) Error() string { return e.msg }
func (e *wireError) Unwrap() error { return e.sentinel }

func errorFromWire(e *pb.Error) error {
	if e == nil || e.Code == pb.Code_CODE_OK {
		return nil
	}
	sentinel := ErrInternal
	for _, c := range codeOf {
		if c.code == e.Code {
			sentinel = c.err
			break
		}
	}
	return &wireError{sentinel: sentinel, msg: e.Message}
}

// fieldsToWire and its kin allocate every entry of a message in one backing
// array: one allocation per field instead of two per entry.
func fieldsToWire(m map[string][]string) []*pb.Field {
	if len(m) == 0 {
		return nil
	}
	fields := make([]pb.Field, len(m))
	values := make([]pb.Values, len(m))
	out := make([]*pb.Field, 0, len(m))
	for k, vs := range m {
		i := len(out)
		values[i].Values = make([][]byte, len(vs))
		for j, v := range vs {
			values[i].Values[j] = []byte(v)
		}
		fields[i].Name, fields[i].Values = k, &values[i]
		out = append(out, &fields[i])
	}
	return out
}

// fieldsFromWire keeps the last of repeated names, as a map entry would.
func fieldsFromWire(fs []*pb.Field) map[string][]string {
	if len(fs) == 0 {
		return nil
	}
	out := make(map[string][]string, len(fs))
	for _, f := range fs {
		bs := f.GetValues().GetValues()
		vs := make([]string, len(bs))
		for j, b := range bs {
			vs[j] = string(b)
		}
		out[f.GetName()] = vs
	}
	return out
}

func attributesToWire(m map[string]string) []*pb.Attribute {
	if len(m) == 0 {
		return nil
	}
	attrs := make([]pb.Attribute, len(m))
	out := make([]*pb.Attribute, 0, len(m))
	for k, v := range m {
		i := len(out)
		attrs[i].Key, attrs[i].Value = k, v
		out = append(out, &attrs[i])
	}
	return out
}

// attributesFromWire keeps the last of repeated keys, as a map entry would.
func attributesFromWire(as []*pb.Attribute) map[string]string {
	if len(as) == 0 {
		return nil
	}
	out := make(map[string]string, len(as))
	for _, a := range as {
		out[a.GetKey()] = a.GetValue()
	}
	return out
}

func requestToWire(r *Request) *pb.Request {
	return &pb.Request{
		Method:           r.Method,
		Path:             r.Path,
		Headers:          fieldsToWire(r.Header),
		Query:            fieldsToWire(r.Query),
		SocketAddress:    r.SocketAddress,
		ClientAddress:    r.ClientAddress,
		PeerCertificates: r.PeerCertificates,
	}
}

func requestFromWire(r *pb.Request) *Request {
	return &Request{
		Method:           r.GetMethod(),
		Path:             r.GetPath(),
		Header:           fieldsFromWire(r.GetHeaders()),
		Query:            fieldsFromWire(r.GetQuery()),
		SocketAddress:    r.GetSocketAddress(),
		ClientAddress:    r.GetClientAddress(),
		PeerCertificates: r.GetPeerCertificates(),
	}
}

func ttlToWire(d time.Duration) int64 { return d.Milliseconds() }

// ttlFromWire saturates at CacheForever, which does not survive the trip
// through whole milliseconds otherwise.
func ttlFromWire(ms int64) time.Duration {
	if ms >= CacheForever.Milliseconds() {
		return CacheForever
	}
	return time.Duration(ms) * time.Millisecond
}

func credentialsToWire(c *Credentials) *pb.Credentials {
	if c == nil {
		return nil
	}
	return &pb.Credentials{
		Username:     c.Username,
		Password:     c.Password,
		BackendRoles: c.BackendRoles,
		Attributes:   attributesToWire(c.Attributes),
		Continue:     c.Continue,
		CacheTtlMs:   ttlToWire(c.CacheTTL),
	}
}

func credentialsFromWire(c *pb.Credentials) *Credentials {
	if c == nil {
		return nil
	}
	return &Credentials{
		Username:     c.GetUsername(),
		Password:     c.GetPassword(),
		BackendRoles: c.GetBackendRoles(),
		Attributes:   attributesFromWire(c.GetAttributes()),
		Continue:     c.GetContinue(),
		CacheTTL:     ttlFromWire(c.GetCacheTtlMs()),
	}
}

func userToWire(u *User) *pb.User {
	if u == nil {
		return nil
	}
	return &pb.User{
		Name:          u.Name,
		BackendRoles:  u.BackendRoles,
		SecurityRoles: u.SecurityRoles,
		Attributes:    attributesToWire(u.Attributes),
		LoginName:     u.LoginName,
		CacheTtlMs:    ttlToWire(u.CacheTTL),
	}
}

func userFromWire(u *pb.User) *User {
	if u == nil {
		return nil
	}
	return &User{
		Name:          u.GetName(),
		BackendRoles:  u.GetBackendRoles(),
		SecurityRoles: u.GetSecurityRoles(),
		Attributes:    attributesFromWire(u.GetAttributes()),
		LoginName:     u.GetLoginName(),
		CacheTTL:      ttlFromWire(u.GetCacheTtlMs()),
	}
}

func grantToWire(g *Grant) *pb.Grant {
	if g == nil {
		return nil
	}
	return &pb.Grant{
		BackendRoles:  g.BackendRoles,
		SecurityRoles: g.SecurityRoles,
		Attributes:    attributesToWire(g.Attributes),
		CacheTtlMs:    ttlToWire(g.CacheTTL),
	}
}

func grantFromWire(g *pb.Grant) *Grant {
	if g == nil {
		return nil
	}
	return &Grant{
		BackendRoles:  g.GetBackendRoles(),
		SecurityRoles: g.GetSecurityRoles(),
		Attributes:    attributesFromWire(g.GetAttributes()),
		CacheTTL:      ttlFromWire(g.GetCacheTtlMs()),
	}
}

func inputsToWire(in Inputs) *pb.Inputs {
	return &pb.Inputs{Headers: in.Headers, Query: in.Query, PeerCertificates: in.PeerCertificates, ClientAddress: in.ClientAddress}
}

func inputsFromWire(in *pb.Inputs) Inputs {
	return Inputs{Headers: in.GetHeaders(), Query: in.GetQuery(), PeerCertificates: in.GetPeerCertificates(), ClientAddress: in.GetClientAddress()}
}

func challengeToWire(c Challenge) *pb.Challenge {
	return &pb.Challenge{WwwAuthenticate: c.WWWAuthenticate, Body: c.Body, ContentType: c.ContentType}
}

func challengeFromWire(c *pb.Challenge) Challenge {
	return Challenge{WWWAuthenticate: c.GetWwwAuthenticate(), Body: c.GetBody(), ContentType: c.GetContentType()}
}

// Role is the part a plugin instance plays in a domain.
type Role int

const (
	RoleAuthenticator Role = iota + 1
	RoleBackend
	RoleAuthorizer
)

func (r Role) String() string {
	switch r {
	case RoleAuthenticator:
		return "http_authenticator"
	case RoleBackend:
		return "authentication_backend"
	case RoleAuthorizer:
		return "authorization_backend"
	}
	return "unknown role"
}

func roleToWire(r Role) pb.Role   { return pb.Role(r) }
func roleFromWire(r pb.Role) Role { return Role(r) }

// checkReply and checkCall report the first text of a message that is not
// UTF-8. A proto3 string refuses such text, and a batch that cannot be
// encoded would break the stream for every call in flight, so the message
// becomes an error for its own call instead. Replacing the bytes is not an
// option: two different user names would become one.
func checkReply(r *pb.Reply) error {
	var c textCheck
	c.credentials(r.GetCredentials())
	c.user(r.GetUser())
	if g := r.GetGrant(); g != nil {
		c.strs("backend role", g.GetBackendRoles())
		c.strs("security role", g.GetSecurityRoles())
		c.attrs(g.GetAttributes())
	}
	return c.err
}

// checkCall is checkReply for the host's side. Header and query values are
// bytes on the wire; everything else in a request is checked here (an
// address comes from X-Forwarded-For, for one).
func checkCall(call *pb.Call) error {
	var c textCheck
	if r := call.GetExtract(); r != nil {
		c.str("method", r.GetMethod())
		c.str("path", r.GetPath())
		c.str("socket address", r.GetSocketAddress())
		c.str("client address", r.GetClientAddress())
		for _, f := range r.GetHeaders() {
			c.str("header name", f.GetName())
		}
		for _, f := range r.GetQuery() {
			c.str("query parameter name", f.GetName())
		}
	}
	c.credentials(call.GetAuthenticate())
	c.user(call.GetAuthorize())
	return c.err
}

type textCheck struct{ err error }

func (c *textCheck) credentials(cr *pb.Credentials) {
	if cr != nil {
		c.str("user name", cr.GetUsername())
		c.strs("backend role", cr.GetBackendRoles())
		c.attrs(cr.GetAttributes())
		c.str("continuation challenge", cr.GetContinue())
	}
}

func (c *textCheck) user(u *pb.User) {
	if u != nil {
		c.str("user name", u.GetName())
		c.str("login name", u.GetLoginName())
		c.strs("backend role", u.GetBackendRoles())
		c.strs("security role", u.GetSecurityRoles())
		c.attrs(u.GetAttributes())
	}
}

func (c *textCheck) str(what, s string) {
	if c.err == nil && !utf8.ValidString(s) {
		c.err = fmt.Errorf("%s %q is not valid UTF-8", what, s)
	}
}

func (c *textCheck) strs(what string, ss []string) {
	for _, s := range ss {
		c.str(what, s)
	}
}

// attrs names the attribute, never its value: values may be sensitive.
func (c *textCheck) attrs(as []*pb.Attribute) {
	for _, a := range as {
		c.str("attribute name", a.GetKey())
		if c.err == nil && !utf8.ValidString(a.GetValue()) {
			c.err = fmt.Errorf("attribute %q has a value that is not valid UTF-8", a.GetKey())
		}
	}
}
