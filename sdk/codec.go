package sdk

import (
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"

	// Registers gRPC's default proto codec, which wireCodec falls back to.
	_ "google.golang.org/grpc/encoding/proto"
)

// wireCodec is the gRPC codec of the plugin connection, set on both ends. The
// wire contract's messages carry generated marshalling code (vtprotobuf,
// realm_vtproto.pb.go), which needs no reflection: on the uncached login path
// protobuf's reflective encoder was about a twentieth of both processes'
// CPU. Any other message (go-plugin's own services share the connection)
// goes through gRPC's proto codec. The bytes on the wire are protobuf's
// either way, so a plugin built with an SDK that lacks this codec still
// talks to realmd, and the other way round.
type wireCodec struct{ fallback encoding.CodecV2 }

// fastMessage is what vtprotobuf generates for each wire contract message.
type fastMessage interface {
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
	UnmarshalVT([]byte) error
}

func newWireCodec() wireCodec {
	return wireCodec{fallback: encoding.GetCodecV2("proto")}
}

// Marshal encodes v. The generated encoder writes backwards from the end of
// a buffer of SizeVT bytes; when it writes fewer (vtprotobuf sizes a oneof
// whose message is nil one byte too large, which would leave a zero byte in
// front: "illegal tag 0" at the other end, and a broken stream), protobuf's
// encoder does the message instead.
func (c wireCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(fastMessage)
	if !ok {
		return c.fallback.Marshal(v)
	}
	size := m.SizeVT()
	if mem.IsBelowBufferPoolingThreshold(size) {
		buf := make([]byte, size)
		n, err := m.MarshalToSizedBufferVT(buf)
		if err != nil {
			return nil, err
		}
		if n != size {
			return c.fallback.Marshal(v)
		}
		return mem.BufferSlice{mem.SliceBuffer(buf)}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	n, err := m.MarshalToSizedBufferVT(*buf)
	if err != nil || n != size {
		pool.Put(buf)
		if err != nil {
			return nil, err
		}
		return c.fallback.Marshal(v)
	}
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// Unmarshal decodes data into v. The generated decoder copies every string
// and bytes field, so data's buffers can be freed when it returns.
func (c wireCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(fastMessage)
	if !ok {
		return c.fallback.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return m.UnmarshalVT(buf.ReadOnlyData())
}

// Name is the content-subtype gRPC announces: the bytes are protobuf's.
func (wireCodec) Name() string { return "proto" }
