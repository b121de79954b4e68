package sdk

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// gcPercent reads GOGC without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func newHeapFloor(floor uint64) *heapFloor {
	return &heapFloor{floor: floor, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
}

func TestHeapFloor_SmallHeapGetsHeadroom(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	runtime.GC()
	f := newHeapFloor(1 << 40) // far above this test's live heap
	f.adjust()
	if f.percent <= 100 {
		t.Fatalf("GOGC = %d for a heap far under the floor, want more than 100", f.percent)
	}
	if got := gcPercent(); got != f.percent {
		t.Fatalf("runtime GOGC = %d, want %d", got, f.percent)
	}
}

func TestHeapFloor_LargeHeapKeepsGoDefault(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	debug.SetGCPercent(500)
	f := newHeapFloor(1) // any live heap is far above a one-byte floor
	f.adjust()
	if got := gcPercent(); got != 100 {
		t.Fatalf("GOGC = %d, want Go's default 100", got)
	}
}

func TestHeapFloor_AdjustsAfterEveryCollection(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	debug.SetGCPercent(100)
	// The finalizer chain outlives the test, so the floor must be one the
	// rest of the package's tests can live with.
	f := newHeapFloor(HeapFloor)
	f.rearm() // no adjust yet: only a collection can change GOGC now
	deadline := time.Now().Add(5 * time.Second)
	for gcPercent() == 100 {
		if time.Now().After(deadline) {
			t.Fatal("GOGC unchanged 5 s after collections: the finalizer did not run")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeepHeapFloor_OperatorGOGCWins(t *testing.T) {
	defer debug.SetGCPercent(gcPercent())
	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	KeepHeapFloor(1 << 40)
	runtime.GC()
	if got := gcPercent(); got != 50 {
		t.Fatalf("GOGC = %d with GOGC=50 set, want 50", got)
	}
}
