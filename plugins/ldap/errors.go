package ldap

import "errors"

var (
	// errSizeLimit: a search found more entries than its size limit, said
	// by the directory (sizeLimitExceeded) or found by go-ldap counting the
	// entries of a directory that ignores the limit. The entries up to the
	// limit come with it.
	errSizeLimit = errors.New("more entries than the search's size limit")
	// errTooManyRoles: one user's roles need more role entries than
	// Config.MaxRoleEntries. The authorizer answers no roles at all rather
	// than a partial list.
	errTooManyRoles = errors.New("too many ldap role entries")
	// errNoSuchBase: the base of a search does not exist (noSuchObject).
	// For a configured search base (userbase, users.*.base, rolebase,
	// roles.*.base) it fails the call, as OpenSearch's NO_SUCH_OBJECT
	// exception does; a lookup of one DN makes it "no entry".
	errNoSuchBase = errors.New("the search base does not exist")
)
