package core

import (
	"context"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// instancePool shares running instances between generations: a reload that
// does not change an instance's spec keeps its process.
type instancePool struct {
	mu      sync.Mutex
	entries map[string]*poolEntry // reusable instances by spec key
	byInst  map[*Instance]string
	byEntry map[*Instance]*poolEntry // every live instance, reusable or not
}

type poolEntry struct {
	inst  *Instance
	refs  int
	ready chan struct{} // closed once inst or err is set
	err   error
}

func newInstancePool() *instancePool {
	return &instancePool{entries: map[string]*poolEntry{}, byInst: map[*Instance]string{}, byEntry: map[*Instance]*poolEntry{}}
}

// acquire returns a running instance for spec, starting one if needed.
func (p *instancePool) acquire(ctx context.Context, spec InstanceSpec, logger hclog.Logger) (*Instance, error) {
	key := spec.Name + "|" + spec.key()
	p.mu.Lock()
	var volatile map[string]bool
	var replaced *poolEntry
	if e, ok := p.entries[key]; ok && e.inst != nil && e.inst.FilesChanged() {
		// A CA bundle or key file changed under the running process: leave
		// it to its current users and start a fresh one. Until that one
		// has started, the old entry is kept aside (replaced), not
		// forgotten: if the new one fails (a refused reload), the old
		// process still serves, and a later reload that finds its files
		// as they were must reuse it.
		volatile = e.inst.unsettled()
		replaced = e
	} else if ok {
		e.refs++
		p.mu.Unlock()
		<-e.ready
		if e.err != nil {
			p.mu.Lock()
			e.refs--
			p.mu.Unlock()
			return nil, e.err
		}
		return e.inst, nil
	}
	e := &poolEntry{refs: 1, ready: make(chan struct{})}
	p.entries[key] = e
	p.mu.Unlock()

	inst, err := startInstance(ctx, spec, logger, volatile)
	p.mu.Lock()
	e.inst, e.err = inst, err
	if e.err != nil {
		delete(p.entries, key)
		// The old instance is reusable again while a generation holds
		// it (release forgets it when the last one lets go).
		if replaced != nil && p.byEntry[replaced.inst] == replaced {
			p.entries[key] = replaced
		}
	} else {
		p.byInst[e.inst] = key
		p.byEntry[e.inst] = e
	}
	p.mu.Unlock()
	close(e.ready)
	return e.inst, e.err
}

// release drops one reference; the last one stops the instance.
func (p *instancePool) release(in *Instance) {
	p.mu.Lock()
	key, ok := p.byInst[in]
	if !ok {
		p.mu.Unlock()
		return
	}
	e := p.byEntry[in]
	e.refs--
	last := e.refs == 0
	if last {
		if p.entries[key] == e {
			delete(p.entries, key)
		}
		delete(p.byInst, in)
		delete(p.byEntry, in)
	}
	p.mu.Unlock()
	if last {
		in.Stop()
	}
}
