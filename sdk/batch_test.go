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
