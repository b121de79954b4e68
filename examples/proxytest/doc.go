// Package proxytest runs the example proxy configs in examples/nginx and
// examples/caddy, unchanged but for their addresses, in real nginx and Caddy
// in front of the real realmd binary; its tests are the whole package.
package proxytest
