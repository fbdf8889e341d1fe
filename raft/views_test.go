package raft

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/accrual/accrual/engine"
)

// TestViewStoreReadsAreWhole: readers of known and new members, while one
// writer republishes and adds members, see every view whole (the figures
// of one put, never a mix of two) under the id asked, and a member once
// found stays found. Run with -race too.
func TestViewStoreReadsAreWhole(t *testing.T) {
	p := loadProgram(t, "club")
	s := newViewStore(p)
	const members = 3 * viewChunkViews
	ids := make([]string, members)
	for i := range ids {
		ids[i] = "M" + strconv.Itoa(i)
	}
	put := func(mi int32, k int64) {
		f := engine.ViewFigures{Available: k, Pending: k, Held: k, Earned: k, Redeemed: k, Expired: k, Plan: int32(k%2) - 1, Tier: uint8(k % 3)}
		s.put(mi, ids[mi], &f)
	}
	var added atomic.Int32
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := r; ; k++ {
				select {
				case <-stop:
					return
				default:
				}
				n := added.Load()
				if n == 0 {
					continue
				}
				id := ids[k%int(n)]
				v, ok := s.get(id)
				if !ok || v.Member != id || v.Pending != v.Available || v.Expired != v.Available ||
					v.Tier != p.Levels[v.Available%3].Name || (v.Plan != "") != (v.Available%2 == 1) {
					t.Errorf("read %s: found %v, %+v", id, ok, v)
					return
				}
			}
		}()
	}
	for mi := range int32(members) {
		put(mi, int64(mi))
		added.Store(mi + 1)
		put(mi/2, int64(mi))
	}
	close(stop)
	wg.Wait()
}
