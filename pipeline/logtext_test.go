package pipeline

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/realmd/realmd/internal/testenv"
	"github.com/realmd/realmd/sdk"
)

// A user name is the client's to choose, and may hold a line break. hclog
// writes such a value over several lines, and a collector that reads one
// record per line would take the name's second line for a record of its
// own (a forged "[WARN]" line, say). Every log line that carries a user
// name keeps it on its line, quoted and escaped.
func TestLog_ClientChosenUserNameStaysOnItsLine(t *testing.T) {
	var out testenv.LogBuffer
	logger := hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Debug})
	p, _ := limited(t, Config{Domains: []Domain{internalDomain()}, Limits: []FailureLimit{userLimit("internal", 2)}, Logger: logger})
	const name = "mallory\n2026-01-01T00.00.00.000Z [WARN]  forged line"
	bad := request()
	bad.Header["Authorization"] = []string{"Basic " + name + ":wrong"}
	for range 3 { // two rejections block the name; the third is skipped
		ask(t, p, bad)
	}
	// The backend answers a name a header cannot carry.
	d := basicDomain("basic", true, &fakeVerifierFunc{fn: func(*sdk.Credentials) *sdk.User { return &sdk.User{Name: "eve\r\nx"} }})
	q := start(t, Config{Domains: []Domain{d}, Logger: logger})
	ask(t, q, request(goodLogin))

	logged := out.String()
	record := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\S+ \[(DEBUG|INFO|WARN)\] `)
	for _, line := range strings.Split(strings.TrimSuffix(logged, "\n"), "\n") {
		if !record.MatchString(line) {
			t.Errorf("a log record spans several lines; this one is not a record of its own: %q\nlog:\n%s", line, logged)
		}
	}
	for _, msg := range []string{"credentials rejected", "user name blocked after failed logins", "user name blocked; domain skipped",
		"user name cannot be sent in a header as it is"} {
		if !strings.Contains(logged, msg) {
			t.Errorf("no line %q in:\n%s", msg, logged)
		}
	}
	if want := `user="mallory\n2026-01-01T00.00.00.000Z [WARN]  forged line"`; !strings.Contains(logged, want) {
		t.Errorf("the user name is not quoted as %s in:\n%s", want, logged)
	}
	if want := `user="eve\r\nx"`; !strings.Contains(logged, want) {
		t.Errorf("the backend's user name is not quoted as %s in:\n%s", want, logged)
	}
}
