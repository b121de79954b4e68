package jwt

import (
	"testing"

	"github.com/realmd/realmd/sdk"
)

func TestExtractToken(t *testing.T) {
	req := func(headers map[string][]string, query map[string][]string) *sdk.Request {
		return &sdk.Request{Header: headers, Query: query}
	}
	auth := func(v string) map[string][]string { return map[string][]string{"Authorization": {v}} }
	tests := []struct {
		name          string
		r             *sdk.Request
		header, param string
		want          string
	}{
		{name: "Bearer prefix", r: req(auth("Bearer abc"), nil), want: "abc"},
		{name: "bearer is case-insensitive", r: req(auth("bEaReR abc"), nil), want: "abc"},
		{name: "bare token", r: req(auth("abc.def.ghi"), nil), want: "abc.def.ghi"},
		{name: "bearer found anywhere takes the rest", r: req(auth("abc.def.ghiBearer  123"), nil), want: " 123"},
		{name: "Basic header is ignored", r: req(auth("Basic dXNlcjpwYXNz"), nil), want: ""},
		{name: "basic with leading space and any case is ignored", r: req(auth("  bAsIc\tdXNlcjpwYXNz"), nil), want: ""},
		{name: "Basic without a separator is a token", r: req(auth("Basicabc"), nil), want: "Basicabc"},
		{name: "Basic in a custom header is not special", r: req(map[string][]string{"X-Jwt": {"Basic abc"}}, nil), header: "X-Jwt", want: "Basic abc"},
		{name: "custom header", r: req(map[string][]string{"Jwt-Auth": {"Bearer t"}}, nil), header: "jwt-auth", want: "t"},
		{name: "no header and no parameter", r: req(nil, nil), want: ""},
		{name: "URL parameter when the header is absent", r: req(nil, map[string][]string{"token": {"t"}}), param: "token", want: "t"},
		{name: "URL parameter when the header is empty", r: req(auth(""), map[string][]string{"token": {"t"}}), param: "token", want: "t"},
		{name: "URL parameter when the header is Basic", r: req(auth("Basic x"), map[string][]string{"token": {"t"}}), param: "token", want: "t"},
		{name: "header wins over the URL parameter", r: req(auth("Bearer h"), map[string][]string{"token": {"p"}}), param: "token", want: "h"},
		// OpenSearch's RestUtils.decodeQueryString keeps the last value
		// of a repeated parameter (found by review).
		{name: "repeated URL parameter gives its last value", r: req(nil, map[string][]string{"token": {"a", "b"}}), param: "token", want: "b"},
		{name: "repeated URL parameter ending empty gives no token", r: req(nil, map[string][]string{"token": {"a", ""}}), param: "token", want: ""},
		{name: "URL parameter is not read unless configured", r: req(nil, map[string][]string{"token": {"p"}}), want: ""},
		// OpenSearch's REST layer keeps the last line of a repeated header.
		{name: "repeated header gives its last line", r: req(map[string][]string{"Authorization": {"Bearer one", "Bearer two"}}, nil), want: "two"},
		{name: "bearer alone leaves an empty token", r: req(auth("Bearer "), nil), want: ""},
		{name: "non-ASCII before bearer keeps offsets", r: req(auth("İİ bearer tok"), nil), want: "tok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := tt.header
			if header == "" {
				header = DefaultHeader
			}
			if got := ExtractToken(tt.r, header, tt.param); got != tt.want {
				t.Fatalf("ExtractToken = %q, want %q", got, tt.want)
			}
		})
	}
}
