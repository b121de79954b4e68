package config

import "testing"

// TestLoad_TabIndentationNamesItsLine: yaml.v3 reports a tab that breaks
// indentation at the line where the value before it starts (the review's
// config.yml with a tab on line 23 said config.yml:22).
func TestLoad_TabIndentationNamesItsLine(t *testing.T) {
	const fix = "YAML syntax error: this line is indented with a tab; YAML indents with spaces only: replace the tab with spaces"
	head := "_meta: {type: config, config_version: 2}\nconfig:\n  dynamic:\n    authc:\n      basic:\n" // lines 1-5
	tests := []struct {
		name, config, want string
	}{
		{
			name:   "a tab before a key of a block",
			config: head + "        order: 0\n\thttp_authenticator: {type: basic}\n",
			want:   "config.yml:7: " + fix,
		},
		{
			name:   "a tab after blank lines and a comment",
			config: head + "        order: 0\n\n        # the authenticator\n\n  \t      http_authenticator: {type: basic}\n",
			want:   "config.yml:10: " + fix,
		},
		{
			name:   "a tab before a list item",
			config: head + "        order: 0\n        http_authenticator: {type: basic}\n        authentication_backend: {type: intern}\n    authz: {}\n  hosts:\n    - a\n\t- b\n",
			want:   "config.yml:12: " + fix,
		},
		{
			name:   "a tab that cannot start a token",
			config: head + "\torder: 0\n",
			want:   "config.yml:6: " + fix,
		},
		{
			name:   "a tab on the first line",
			config: "\t_meta: {type: config, config_version: 2}\n",
			want:   "config.yml:1: " + fix,
		},
		{
			name:   "a tab in a block scalar's indentation",
			config: head + "        description: |\n          one\n\t  two\n",
			want:   "config.yml:8: " + fix,
		},
		{
			// A tab after a block scalar's indentation is content; the
			// line that starts with one is the error (found by review).
			name:   "a tab inside block scalar content before the bad line",
			config: head + "        description: |\n          one\n          \ttwo\n\thttp_authenticator: {type: basic}\n",
			want:   "config.yml:9: " + fix,
		},
		{
			name:   "a character that cannot start a token is not a tab",
			config: head + "        order: `0`\n",
			want:   "config.yml:6: YAML syntax error: found character that cannot start any token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ps := loadDir(writeDir(t, map[string]string{ConfigFile: tt.config}), nil)
			assertProblems(t, s, ps, tt.want)
		})
	}
}
