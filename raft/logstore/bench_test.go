package logstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	raftbench "github.com/hashicorp/raft/bench"
)

// BenchmarkStoreLogs appends batches of 64 KiB entries, one StoreLogs (one
// pebble.Sync commit) per batch, the way the raft leader does with
// MaxAppendEntries entries gathered from Apply calls.
func BenchmarkStoreLogs(b *testing.B) {
	const entrySize = 64 << 10
	for _, batch := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d/entry=64KiB", batch), func(b *testing.B) {
			s, _ := newT(b)
			// Random (incompressible) payloads: Pebble's block compression
			// must not flatter the figures; one pool reused round-robin.
			rng := rand.New(rand.NewPCG(1, 2))
			pool := make([][]byte, 128)
			for i := range pool {
				pool[i] = make([]byte, entrySize)
				for j := range pool[i] {
					pool[i][j] = byte(rng.Uint32())
				}
			}
			logs := make([]*raft.Log, batch)
			for i := range logs {
				logs[i] = &raft.Log{Type: raft.LogCommand, Term: 1}
			}
			next := uint64(1)
			b.SetBytes(int64(batch * entrySize))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				now := time.Now()
				for _, l := range logs {
					l.Index = next
					l.Data = pool[next%uint64(len(pool))]
					l.AppendedAt = now
					next++
				}
				if err := s.StoreLogs(logs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}

// BenchmarkGetLog reads random entries among 10k stored 1 KiB entries.
func BenchmarkGetLog(b *testing.B) {
	s, _ := newT(b)
	const n = 10_000
	data := make([]byte, 1024)
	for lo := uint64(1); lo <= n; lo += 500 {
		logs := make([]*raft.Log, 500)
		for i := range logs {
			logs[i] = &raft.Log{Index: lo + uint64(i), Term: 1, Data: data}
		}
		if err := s.StoreLogs(logs); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var l raft.Log
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.GetLog(1+rng.Uint64N(n), &l); err != nil {
			b.Fatal(err)
		}
	}
}

// hashicorp/raft's shared backend benchmarks, for comparison with other
// stores (raft-boltdb, raft-wal run the same functions).
func BenchmarkRaftBench(b *testing.B) {
	for name, fn := range map[string]func(*testing.B, raft.LogStore){
		"FirstIndex":  raftbench.FirstIndex,
		"LastIndex":   raftbench.LastIndex,
		"GetLog":      raftbench.GetLog,
		"StoreLog":    raftbench.StoreLog,
		"StoreLogs":   raftbench.StoreLogs,
		"DeleteRange": raftbench.DeleteRange,
	} {
		b.Run(name, func(b *testing.B) {
			s, _ := newT(b)
			fn(b, s)
		})
	}
	for name, fn := range map[string]func(*testing.B, raft.StableStore){
		"Set":       raftbench.Set,
		"Get":       raftbench.Get,
		"SetUint64": raftbench.SetUint64,
		"GetUint64": raftbench.GetUint64,
	} {
		b.Run(name, func(b *testing.B) {
			s, _ := newT(b)
			fn(b, s)
		})
	}
}
