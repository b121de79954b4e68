package sdk

import (
	"errors"

	"github.com/hashicorp/go-plugin"
)

// Sentinel errors. Plugins wrap them with %w; they cross the wire as codes
// and come back so that errors.Is works on the host side.
var (
	// ErrMalformed: credentials are present but cannot be read (bad base64,
	// a truncated token). The domain is skipped, as OpenSearch does.
	ErrMalformed = errors.New("malformed credentials")
	// ErrUnavailable: a dependency (directory, identity provider, the plugin
	// process itself) is down or timed out. The domain counts as unavailable
	// and realmd answers 503 rather than telling a client its password is wrong.
	ErrUnavailable = errors.New("unavailable")
	// ErrNotConfigured: a call reached an instance before Configure succeeded.
	ErrNotConfigured = errors.New("instance not configured")
	// ErrUnsupported: the instance does not serve this kind of call.
	ErrUnsupported = errors.New("unsupported call")
	// ErrInternal: a failure that is none of the above.
	ErrInternal = errors.New("internal error")
)

// ErrChecksumMismatch is what Launch wraps when a pinned executable's
// SHA-256 differs from its pin (LaunchConfig.Checksum). It is go-plugin's
// own sentinel, so that the host needs no import of go-plugin to place
// the error.
var ErrChecksumMismatch = plugin.ErrChecksumsDoNotMatch
