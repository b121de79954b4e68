package pipeline

import (
	"testing"

	"github.com/realmd/realmd/sdk"
)

func TestCacheKey_DifferentInputsNeverShareAKey(t *testing.T) {
	// Every field is written with a tag and its length, so no two requests
	// whose parts differ hash the same bytes, however their values are laid
	// out: a value that spells the encoding of a field boundary ("a", "v",
	// "b" as one value) is not two values, a header is not a query
	// parameter of the same name, and an empty value is not an absent one.
	in := unionInputs([]Domain{
		{Inputs: sdk.Inputs{Headers: []string{"authorization", "X-Token"}, Query: []string{"Authorization", "token"}, PeerCertificates: true}},
	})
	req := func(h, q map[string][]string, certs ...string) *sdk.Request {
		r := &sdk.Request{Header: h, Query: q}
		for _, c := range certs {
			r.PeerCertificates = append(r.PeerCertificates, []byte(c))
		}
		return r
	}
	type hq = map[string][]string
	tests := []struct {
		name string
		a, b *sdk.Request
	}{
		{"one line is not two lines", req(hq{"Authorization": {"avb"}}, nil), req(hq{"Authorization": {"a", "b"}}, nil)},
		{"a boundary spelled in a value is no boundary", req(hq{"Authorization": {"a\x00\x00\x00\x00\x00\x00\x00\x01b"}}, nil), req(hq{"Authorization": {"a", "b"}}, nil)},
		{"one header is not another", req(hq{"Authorization": {"t"}}, nil), req(hq{"X-Token": {"t"}}, nil)},
		{"a header is not a parameter of the same name", req(hq{"Authorization": {"t"}}, nil), req(nil, hq{"Authorization": {"t"}})},
		{"one parameter is not another", req(nil, hq{"token": {"t"}}), req(nil, hq{"Authorization": {"t"}})},
		{"a value moved between fields", req(hq{"Authorization": {"ab"}, "X-Token": {""}}, nil), req(hq{"Authorization": {"a"}, "X-Token": {"b"}}, nil)},
		{"an empty value is not an absent one", req(hq{"Authorization": {"t"}, "X-Token": {""}}, nil), req(hq{"Authorization": {"t"}}, nil)},
		{"a certificate is not a header value", req(nil, nil, "t"), req(hq{"Authorization": {"t"}}, nil)},
		{"two certificates are not one", req(nil, nil, "ab"), req(nil, nil, "a", "b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, okA := in.key(tt.a)
			kb, okB := in.key(tt.b)
			if !okA || !okB {
				t.Fatalf("no key: %v, %v", okA, okB)
			}
			if ka == kb {
				t.Errorf("one key for %+v and %+v", tt.a, tt.b)
			}
		})
	}
}
