package raft

import (
	"hash/maphash"
	"sync"

	"github.com/accrual/accrual/engine"
	"github.com/cespare/xxhash/v2"
)

const viewShards = 64

// viewStore holds the published member views: what reads see. It has its
// own per-shard locks, so reads never wait for the apply lock.
type viewStore struct {
	seed   maphash.Seed
	shards [viewShards]viewShard
}

type viewShard struct {
	mu sync.RWMutex
	m  map[string]engine.MemberView
	_  [40]byte // keep shards on separate cache lines
}

func newViewStore() *viewStore {
	s := &viewStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		s.shards[i].m = map[string]engine.MemberView{}
	}
	return s
}

func (s *viewStore) shard(name string) *viewShard {
	return &s.shards[maphash.String(s.seed, name)%viewShards]
}

func (s *viewStore) put(v engine.MemberView) {
	sh := s.shard(v.Member)
	sh.mu.Lock()
	sh.m[v.Member] = v
	sh.mu.Unlock()
}

func (s *viewStore) get(name string) (engine.MemberView, bool) {
	sh := s.shard(name)
	sh.mu.RLock()
	v, ok := sh.m[name]
	sh.mu.RUnlock()
	return v, ok
}

// reset empties the store, each shard sized for its part of members views
// (a restore puts every member's view next: growing the maps from empty
// costs as much as the puts themselves).
func (s *viewStore) reset(members int) {
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.m = make(map[string]engine.MemberView, members/viewShards+1)
		sh.mu.Unlock()
	}
}

func newHash64() *xxhash.Digest { return xxhash.New() }
