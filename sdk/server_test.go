package sdk

import (
	"context"
	"testing"
	"time"

	pb "github.com/realmd/realmd/sdk/proto/realmv1"
)

func TestBatchContext_LatestDeadlineReleasedByTheLastCall(t *testing.T) {
	calls := []*pb.Call{{Id: 1, TimeoutMs: 1000}, {Id: 2, TimeoutMs: 3000}, {Id: 3, TimeoutMs: 2000}}
	start := time.Now()
	b := newBatchContext(context.Background(), calls)
	dl, ok := b.ctx.Deadline()
	if !ok || dl.Before(start.Add(3*time.Second)) || dl.After(time.Now().Add(3*time.Second)) {
		t.Fatalf("deadline %v (ok %v), want 3 s from now", dl, ok)
	}
	b.done()
	b.done()
	if b.ctx.Err() != nil {
		t.Fatal("released before the last call finished")
	}
	b.done()
	if b.ctx.Err() == nil {
		t.Fatal("not released after the last call finished")
	}
}

func TestBatchContext_OneUnboundedCallUnboundsTheBatch(t *testing.T) {
	b := newBatchContext(context.Background(), []*pb.Call{{Id: 1, TimeoutMs: 1000}, {Id: 2}})
	if dl, ok := b.ctx.Deadline(); ok {
		t.Fatalf("deadline %v, want none", dl)
	}
}
