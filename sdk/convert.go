package sdk

import (
	"errors"
	"time"

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
	return &pb.Error{Code: code, Message: err.Error()}
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

func valuesToWire(m map[string][]string) map[string]*pb.Values {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]*pb.Values, len(m))
	for k, v := range m {
		out[k] = &pb.Values{Values: v}
	}
	return out
}

func valuesFromWire(m map[string]*pb.Values) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		out[k] = v.GetValues()
	}
	return out
}

func requestToWire(r *Request) *pb.Request {
	return &pb.Request{
		Method:           r.Method,
		Path:             r.Path,
		Headers:          valuesToWire(r.Header),
		Query:            valuesToWire(r.Query),
		SocketAddress:    r.SocketAddress,
		ClientAddress:    r.ClientAddress,
		PeerCertificates: r.PeerCertificates,
	}
}

func requestFromWire(r *pb.Request) *Request {
	return &Request{
		Method:           r.GetMethod(),
		Path:             r.GetPath(),
		Header:           valuesFromWire(r.GetHeaders()),
		Query:            valuesFromWire(r.GetQuery()),
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
		Attributes:   c.Attributes,
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
		Attributes:   c.GetAttributes(),
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
		Attributes:    u.Attributes,
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
		Attributes:    u.GetAttributes(),
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
		Attributes:    g.Attributes,
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
		Attributes:    g.GetAttributes(),
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
