package sdk

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// HeapFloor is the headroom, in bytes, that Serve gives the garbage
// collector of every plugin process; realmd gives its own process the same.
const HeapFloor = 16 << 20

// KeepHeapFloor lets the heap grow by at least floor bytes past the live
// heap before the garbage collector runs again (or double, as Go does by
// default, when that is more).
//
// A realm keeps almost nothing live but allocates on every call: a JWT
// verification allocates about 8 KiB. Under Go's defaults (GOGC=100, with a
// 4 MiB minimum) such a process collects dozens of times per second under
// load, and each collection wakes every processor. Measured on uncached JWT
// logins, a larger heap target cut realmd's CPU per request by about a
// fifth. A floor of a few MiB per process removes most of that cost; a process that keeps a large live heap (realmd's
// identity cache) is collected as Go would anyway.
//
// Setting GOGC or GOMEMLIMIT in the environment turns this off: the
// operator's choice wins. KeepHeapFloor is for main packages; call it once.
func KeepHeapFloor(floor uint64) {
	if floor == 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	f := &heapFloor{floor: floor, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	f.adjust()
	f.rearm()
}

// heapFloor recomputes GOGC after every collection: a finalizer on an
// unreachable sentinel runs once per cycle and sets the next one.
type heapFloor struct {
	floor   uint64
	percent int
	live    []metrics.Sample
}

type gcSentinel struct{ f *heapFloor }

func (f *heapFloor) rearm() {
	runtime.SetFinalizer(&gcSentinel{f}, func(s *gcSentinel) {
		s.f.adjust()
		s.f.rearm()
	})
}

// adjust sets GOGC so that the next collection starts at
// max(2 x live, live + floor).
func (f *heapFloor) adjust() {
	metrics.Read(f.live)
	live := uint64(1 << 20) // before the first collection the runtime reports 0
	if f.live[0].Value.Kind() == metrics.KindUint64 && f.live[0].Value.Uint64() > live {
		live = f.live[0].Value.Uint64()
	}
	percent := max(100, int(min(f.floor*100/live, 1_000_000)))
	// Only a change of a tenth or more is worth telling the runtime about.
	if diff := percent - f.percent; diff*10 > f.percent || -diff*10 > f.percent {
		f.percent = percent
		debug.SetGCPercent(percent)
	}
}
