package sdk

import (
	"fmt"
	"slices"
	"testing"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/proto"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

// BenchmarkWire is one batch of typical Exchange traffic, both ways: six
// extract calls carrying a bearer token, and their replies with claims as
// attributes. It is what one stream message costs to encode and decode,
// with gRPC's reflective proto codec and with the plugin connection's
// generated one (wireCodec).
func BenchmarkWire(b *testing.B) {
	req := &Request{Header: map[string][]string{"Authorization": {"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEiLCJyb2xlcyI6ImFkbWluLGRldiIsImV4cCI6MTc5NTM2OTM0N30.TUrsmJEXx3y5Rk5P4k1M7fYYRU5vnyw01d0noAzxybE"}}}
	creds := &Credentials{Username: "user-1", BackendRoles: []string{"admin", "dev"}, Attributes: map[string]string{
		"attr.jwt.sub": "user-1", "attr.jwt.roles": "admin,dev", "attr.jwt.exp": "1795369347",
	}}
	for _, codec := range []encoding.CodecV2{encoding.GetCodecV2("proto"), newWireCodec()} {
		b.Run(fmt.Sprintf("%T", codec), func(b *testing.B) {
			for b.Loop() {
				calls := &pb.Calls{}
				replies := &pb.Replies{}
				for i := range 6 {
					calls.Calls = append(calls.Calls, &pb.Call{Id: uint64(i), TimeoutMs: 5000, Kind: &pb.Call_Extract{Extract: requestToWire(req)}})
					replies.Replies = append(replies.Replies, &pb.Reply{Id: uint64(i), Found: true, Credentials: credentialsToWire(creds)})
				}
				gotCalls, gotReplies := &pb.Calls{}, &pb.Replies{}
				roundTrip(b, codec, calls, gotCalls)
				roundTrip(b, codec, replies, gotReplies)
				for _, c := range gotCalls.Calls {
					_ = requestFromWire(c.GetExtract())
				}
				for _, r := range gotReplies.Replies {
					_ = credentialsFromWire(r.GetCredentials())
				}
			}
		})
	}
}

func roundTrip(b *testing.B, codec encoding.CodecV2, m, into proto.Message) {
	raw, err := codec.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Free()
	if err := codec.Unmarshal(raw, into); err != nil {
		b.Fatal(err)
	}
}

// FuzzWire checks the promises that keep one request from breaking a stream
// that others share: header and query values arrive byte for byte, whatever
// they hold, and a reply or call that checkReply or checkCall accepts always
// encodes. It also checks that the plugin connection's codec and protobuf's
// own read each other's bytes, so SDKs with and without wireCodec interoperate.
func FuzzWire(f *testing.F) {
	f.Add("Bearer eyJ0", "alice", "admins", "attr.x", "v")
	f.Add("Basic \xff\xfe", "bob\xff", "r\xc3", "k\x80", "\xed\xa0\x80")
	f.Fuzz(func(t *testing.T, value, name, role, attrKey, attrValue string) {
		req := &Request{Header: map[string][]string{"Authorization": {value, name}}, Query: map[string][]string{"token": {value}}}
		codec := newWireCodec()
		raw, err := codec.Marshal(&pb.Calls{Calls: []*pb.Call{{Id: 1, Kind: &pb.Call_Extract{Extract: requestToWire(req)}}}})
		if err != nil {
			t.Fatalf("a request did not encode: %v", err)
		}
		var calls pb.Calls
		if err := codec.Unmarshal(raw, &calls); err != nil {
			t.Fatal(err)
		}
		raw.Free()
		sameOnWire(t, &calls, &pb.Calls{})
		got := requestFromWire(calls.Calls[0].GetExtract())
		if !slices.Equal(got.Header["Authorization"], req.Header["Authorization"]) || !slices.Equal(got.Query["token"], req.Query["token"]) {
			t.Fatalf("request changed on the wire: %q %q", got.Header, got.Query)
		}

		attrs := map[string]string{attrKey: attrValue}
		for _, reply := range []*pb.Reply{
			{Id: 1, Credentials: credentialsToWire(&Credentials{Username: name, BackendRoles: []string{role}, Attributes: attrs, Continue: value})},
			{Id: 2, User: userToWire(&User{Name: name, LoginName: value, BackendRoles: []string{role}, SecurityRoles: []string{role}, Attributes: attrs})},
			{Id: 3, Grant: grantToWire(&Grant{BackendRoles: []string{role}, SecurityRoles: []string{role}, Attributes: attrs})},
		} {
			_, err := proto.Marshal(&pb.Replies{Replies: []*pb.Reply{reply}})
			if bad := checkReply(reply); bad == nil && err != nil {
				t.Fatalf("checkReply passed a reply that does not encode: %v", err)
			} else if bad != nil && err == nil {
				t.Fatalf("checkReply refused a reply that encodes: %v", bad)
			}
			if err == nil {
				sameOnWire(t, &pb.Replies{Replies: []*pb.Reply{reply}}, &pb.Replies{})
			}
		}

		req.ClientAddress, req.SocketAddress, req.Method, req.Path = name, role, attrKey, attrValue
		for _, call := range []*pb.Call{
			{Id: 1, Kind: &pb.Call_Extract{Extract: requestToWire(req)}},
			{Id: 2, Kind: &pb.Call_Authenticate{Authenticate: credentialsToWire(&Credentials{Username: name, BackendRoles: []string{role}, Attributes: attrs})}},
			{Id: 3, Kind: &pb.Call_Authorize{Authorize: userToWire(&User{Name: name, LoginName: value, SecurityRoles: []string{role}, Attributes: attrs})}},
		} {
			_, err := proto.Marshal(&pb.Calls{Calls: []*pb.Call{call}})
			if bad := checkCall(call); bad == nil && err != nil {
				t.Fatalf("checkCall passed a call that does not encode: %v", err)
			} else if bad != nil && err == nil {
				t.Fatalf("checkCall refused a call that encodes: %v", bad)
			}
			if err == nil {
				sameOnWire(t, &pb.Calls{Calls: []*pb.Call{call}}, &pb.Calls{})
			}
		}
	})
}

// sameOnWire checks that m survives protobuf's encoder with wireCodec's
// decoder, and wireCodec's encoder with protobuf's decoder; blank is an
// empty message of m's type.
func sameOnWire(t *testing.T, m, blank proto.Message) {
	t.Helper()
	codec := newWireCodec()
	raw, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("protobuf cannot encode %v: %v", m, err)
	}
	fromProto := proto.Clone(blank)
	if err := codec.Unmarshal(mem.BufferSlice{mem.SliceBuffer(raw)}, fromProto); err != nil || !proto.Equal(fromProto, m) {
		t.Fatalf("wireCodec read protobuf's bytes as %v (error %v), want %v", fromProto, err, m)
	}
	fast, err := codec.Marshal(m)
	if err != nil {
		t.Fatalf("wireCodec cannot encode %v: %v", m, err)
	}
	defer fast.Free()
	fromFast := proto.Clone(blank)
	if err := proto.Unmarshal(fast.Materialize(), fromFast); err != nil || !proto.Equal(fromFast, m) {
		t.Fatalf("protobuf read wireCodec's bytes as %v (error %v), want %v", fromFast, err, m)
	}
}

// TestWireCodec_EmptyOneofSurvives: a call whose kind is set must arrive as
// that kind even when its message is empty or nil, as protobuf's own
// encoder ensures. vtprotobuf's v0.6.0 generator dropped a oneof whose
// message was nil, which turned such a call into an empty one.
func TestWireCodec_EmptyOneofSurvives(t *testing.T) {
	for _, call := range []*pb.Call{
		{Id: 1, Kind: &pb.Call_Extract{Extract: &pb.Request{}}},
		{Id: 2, Kind: &pb.Call_Extract{}},
		{Id: 3, Kind: &pb.Call_Authenticate{}},
		{Id: 4, Kind: &pb.Call_Authorize{}},
	} {
		codec := newWireCodec()
		raw, err := codec.Marshal(&pb.Calls{Calls: []*pb.Call{call}})
		if err != nil {
			t.Fatal(err)
		}
		var got pb.Calls
		if err := codec.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		raw.Free()
		if k, want := fmt.Sprintf("%T", got.Calls[0].GetKind()), fmt.Sprintf("%T", call.GetKind()); k != want {
			t.Fatalf("call %d arrived as %s, want %s", call.Id, k, want)
		}
	}
}
