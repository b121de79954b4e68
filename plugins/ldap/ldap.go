// Package ldap is realmd's LDAP realm: an authentication backend that binds
// as the user and an authorization backend that reads the user's groups,
// with OpenSearch Security's configuration keys and semantics.
package ldap

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/sdk"
)

// Version is the plugin's version.
const Version = "0.1.0"

// Plugin describes the realm: authentication backend and authorization
// backend type "ldap". realmd maps "ldap2" and OpenSearch's Java class
// names to "ldap".
func Plugin() sdk.Plugin {
	return sdk.Plugin{
		Name:        "ldap",
		Version:     Version,
		Backends:    map[string]sdk.Factory[sdk.Backend]{"ldap": NewBackend},
		Authorizers: map[string]sdk.Factory[sdk.Authorizer]{"ldap": NewAuthorizer},
	}
}

// NewBackend reads an authentication backend's config. It does no I/O.
func NewBackend(cfg *sdk.Config) (sdk.Backend, error) {
	return &backend{realm: newRealm(cfg)}, nil
}

// NewAuthorizer reads an authorization backend's config. It does no I/O.
func NewAuthorizer(cfg *sdk.Config) (sdk.Authorizer, error) {
	return &authorizer{realm: newRealm(cfg)}, nil
}

// realm is what both roles share: the config and, once provisioned, the
// directory connections.
type realm struct {
	cfg    *Config
	logger hclog.Logger
	dir    *directory
}

func newRealm(cfg *sdk.Config) *realm {
	return &realm{cfg: ReadConfig(cfg), logger: cfg.Logger()}
}

// Provision reads the PEM files and starts the connection pools. A
// directory that is down is not an error: calls answer unavailable until it
// is back.
func (r *realm) Provision(context.Context) error {
	dir, err := newDirectory(r.cfg, r.logger)
	if err != nil {
		return err
	}
	r.dir = dir
	return nil
}

// Cleanup closes the pools. It tolerates a failed or missing Provision.
func (r *realm) Cleanup() error {
	if r.dir != nil {
		r.dir.close()
	}
	return nil
}

func (r *realm) directory() (*directory, error) {
	if r.dir == nil {
		return nil, fmt.Errorf("%w: ldap realm not provisioned", sdk.ErrNotConfigured)
	}
	return r.dir, nil
}

// randomUUID returns a random (version 4) UUID for the default fake DN.
func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Interface guards
var (
	_ sdk.Backend     = (*backend)(nil)
	_ sdk.Authorizer  = (*authorizer)(nil)
	_ sdk.Provisioner = (*backend)(nil)
	_ sdk.Cleaner     = (*backend)(nil)
	_ sdk.Provisioner = (*authorizer)(nil)
	_ sdk.Cleaner     = (*authorizer)(nil)
)
