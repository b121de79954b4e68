package core

import (
	"context"
	"testing"

	"github.com/realmd/realmd/core/config"
	"github.com/realmd/realmd/pipeline"
)

func TestIgnoreHosts_AddressesCIDRsAndPatterns(t *testing.T) {
	match := ignoreHosts([]string{"10.0.0.0/8", "192.168.1.7", "172.16.*", "/::1/"}, pipeline.IPOnly)
	for ip, want := range map[string]bool{
		"10.20.30.40":      true,  // CIDR
		"11.0.0.1":         false, //
		"192.168.1.7":      true,  // an address is a /32
		"192.168.1.8":      false, //
		"172.16.9.9":       true,  // glob
		"::1":              true,  // regex
		"::ffff:10.0.0.1":  true,  // an IPv4-mapped IPv6 address is its IPv4 address
		"not an address":   false, //
		"2001:db8::1":      false, //
		"172.17.0.1":       false, //
		"192.168.1.7:8080": false, // the port is never part of it
	} {
		if got := match(context.Background(), ip); got != want {
			t.Errorf("%s: ignored %v, want %v", ip, got, want)
		}
	}
	if ignoreHosts(nil, pipeline.IPOnly) != nil {
		t.Error("no ignore_hosts must ignore nobody (nil)")
	}
}

// OpenSearch matches ignore_hosts patterns against Java's
// InetAddress.getHostAddress, which writes IPv6 uncompressed; a pattern
// written in that form or in Go's compressed form matches (found by
// review: only the compressed form was matched).
func TestIgnoreHosts_IPv6PatternsMatchJavaOrGoForm(t *testing.T) {
	match := ignoreHosts([]string{"/0:0:0:0:0:0:0:1/", "2001:db8:0:0:*", "2001:db8:1::*"}, pipeline.IPOnly)
	for ip, want := range map[string]bool{
		"::1":           true,  // Java form, regex
		"2001:db8::7":   true,  // Java form, glob
		"2001:db8:1::9": true,  // Go form, glob
		"::2":           false, //
		"2001:db8:2::7": false, //
		"192.168.0.1":   false, //
	} {
		if got := match(context.Background(), ip); got != want {
			t.Errorf("%s: ignored %v, want %v", ip, got, want)
		}
	}
}

// Only the listener forms OpenSearch enforces become limits.
func TestFailureLimits_OnlyEnforcedForms(t *testing.T) {
	s := &config.Settings{}
	s.Security.AuthFailureListeners = []config.AuthFailureListener{
		{Name: "ip", Type: "ip", AllowedTries: 3},
		{Name: "user", Type: "username", AuthenticationBackend: "internal", AllowedTries: 4},
		{Name: "user-without-backend", Type: "username"},
		{Name: "ip-with-backend", Type: "ip", AuthenticationBackend: "internal"},
	}
	got := failureLimits(s)
	if len(got) != 2 || got[0].Name != "ip" || got[0].Backend != "" || got[0].AllowedTries != 3 ||
		got[1].Name != "user" || got[1].Backend != "internal" || got[1].AllowedTries != 4 {
		t.Fatalf("limits = %+v", got)
	}
}
