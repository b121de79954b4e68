package sdk

import (
	"errors"
	"sync"
	"testing"
)

func TestBatcher_SendsEveryItemOnceInBoundedBatches(t *testing.T) {
	var mu sync.Mutex
	seen := map[int]int{}
	batches := 0
	b := &batcher[int]{send: func(batch []int) error {
		if len(batch) == 0 || len(batch) > maxBatch {
			t.Errorf("batch of %d items", len(batch))
		}
		mu.Lock()
		defer mu.Unlock()
		batches++
		for _, i := range batch {
			seen[i]++
		}
		return nil
	}}
	const n = 5000
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := b.add(i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d distinct items sent, want %d", len(seen), n)
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("item %d sent %d times", i, c)
		}
	}
	t.Logf("%d items in %d batches", n, batches)
}

func TestBatcher_ASendErrorIsReturnedFromThenOn(t *testing.T) {
	boom := errors.New("stream broken")
	calls := 0
	b := &batcher[int]{send: func([]int) error { calls++; return boom }}
	if err := b.add(1); !errors.Is(err, boom) {
		t.Fatalf("first add: %v", err)
	}
	if err := b.add(2); !errors.Is(err, boom) {
		t.Fatalf("later add: %v", err)
	}
	if calls != 1 {
		t.Errorf("send called %d times after it failed", calls)
	}
}

func TestBatcher_BatchesStayUnderTheByteBound(t *testing.T) {
	const itemSize = maxBatchBytes / 3 // three fit, a fourth does not
	sizeOf := func(i int) int {
		if i == 0 {
			return 3 * maxBatchBytes // larger than a batch: goes alone
		}
		return itemSize
	}
	var mu sync.Mutex
	seen := 0
	b := &batcher[int]{size: sizeOf, send: func(batch []int) error {
		total := 0
		for _, i := range batch {
			total += sizeOf(i)
		}
		if total > maxBatchBytes && len(batch) > 1 {
			t.Errorf("batch %v of %d bytes", batch, total)
		}
		mu.Lock()
		seen += len(batch)
		mu.Unlock()
		return nil
	}}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := b.add(i); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if seen != 200 {
		t.Fatalf("%d items sent, want 200", seen)
	}
}

func TestBatcher_AFullQueueRefusesAtOnce(t *testing.T) {
	const big = 100
	sizeOf := func(i int) int {
		if i >= big {
			return i
		}
		return 1
	}
	tests := []struct {
		name   string
		limit  int
		bytes  int
		queued []int // added while the first send is blocked; all fit
		refuse int   // then refused
	}{
		{name: "by count", limit: 3, queued: []int{2, 3, 4}, refuse: 5},
		{name: "by bytes", bytes: 250, queued: []int{2, 120, 121, 3}, refuse: 130},
		{name: "one item larger than the bound goes when the queue is empty", bytes: 250, queued: []int{300}, refuse: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entered := make(chan []int, 10)
			gate := make(chan struct{})
			b := &batcher[int]{size: sizeOf, limit: tt.limit, limitBytes: tt.bytes, send: func(batch []int) error {
				entered <- append([]int(nil), batch...)
				<-gate
				return nil
			}}
			first := make(chan error)
			go func() { first <- b.add(1) }()
			<-entered // the first add now sends, and holds the sending role
			for _, i := range tt.queued {
				if err := b.add(i); err != nil {
					t.Fatalf("add(%d) while below the bound: %v", i, err)
				}
			}
			if err := b.add(tt.refuse); !errors.Is(err, errQueueFull) {
				t.Fatalf("add(%d) past the bound: got %v, want errQueueFull", tt.refuse, err)
			}
			close(gate)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			var sent []int
			for len(entered) > 0 {
				sent = append(sent, <-entered...)
			}
			if len(sent) != len(tt.queued) {
				t.Fatalf("sent %v after the first item, want %v", sent, tt.queued)
			}
			if err := b.add(tt.refuse); err != nil {
				t.Fatalf("add once the queue drained: %v", err)
			}
		})
	}
}
