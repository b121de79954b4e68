package sdk

import (
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// BenchmarkWire is one batch of typical Exchange traffic, both ways: six
// extract calls carrying a bearer token, and their replies with claims as
// attributes. It is what one stream message costs to encode and decode.
func BenchmarkWire(b *testing.B) {
	req := &Request{Header: map[string][]string{"Authorization": {"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEiLCJyb2xlcyI6ImFkbWluLGRldiIsImV4cCI6MTc5NTM2OTM0N30.TUrsmJEXx3y5Rk5P4k1M7fYYRU5vnyw01d0noAzxybE"}}}
	creds := &Credentials{Username: "user-1", BackendRoles: []string{"admin", "dev"}, Attributes: map[string]string{
		"attr.jwt.sub": "user-1", "attr.jwt.roles": "admin,dev", "attr.jwt.exp": "1795369347",
	}}
	for b.Loop() {
		calls := &pb.Calls{}
		replies := &pb.Replies{}
		for i := range 6 {
			calls.Calls = append(calls.Calls, &pb.Call{Id: uint64(i), TimeoutMs: 5000, Kind: &pb.Call_Extract{Extract: requestToWire(req)}})
			replies.Replies = append(replies.Replies, &pb.Reply{Id: uint64(i), Found: true, Credentials: credentialsToWire(creds)})
		}
		gotCalls, gotReplies := &pb.Calls{}, &pb.Replies{}
		roundTrip(b, calls, gotCalls)
		roundTrip(b, replies, gotReplies)
		for _, c := range gotCalls.Calls {
			_ = requestFromWire(c.GetExtract())
		}
		for _, r := range gotReplies.Replies {
			_ = credentialsFromWire(r.GetCredentials())
		}
	}
}

func roundTrip(b *testing.B, m, into proto.Message) {
	raw, err := proto.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	if err := proto.Unmarshal(raw, into); err != nil {
		b.Fatal(err)
	}
}
