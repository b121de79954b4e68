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
