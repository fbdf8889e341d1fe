package logstore

import (
	"math"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"pgregory.net/rapid"
)

// genIndex draws mostly small indexes (so operations collide) plus the
// values next to MaxUint64 (so overflow guards are exercised).
func genIndex() *rapid.Generator[uint64] {
	return rapid.OneOf(
		rapid.Uint64Range(0, 40),
		rapid.Uint64Range(0, 40),
		rapid.Uint64Range(0, 40),
		rapid.SampledFrom([]uint64{math.MaxUint64 - 2, math.MaxUint64 - 1, math.MaxUint64}),
	)
}

func genLog(t *rapid.T, label string) *raft.Log {
	l := &raft.Log{
		Index: genIndex().Draw(t, label+".index"),
		Term:  rapid.Uint64().Draw(t, label+".term"),
		Type:  raft.LogType(rapid.Uint8().Draw(t, label+".type")),
	}
	if d := rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, label+".data"); len(d) > 0 {
		l.Data = d
	}
	if e := rapid.SliceOfN(rapid.Byte(), 0, 8).Draw(t, label+".ext"); len(e) > 0 {
		l.Extensions = e
	}
	if rapid.Bool().Draw(t, label+".hasTime") {
		l.AppendedAt = time.Unix(0, rapid.Int64().Draw(t, label+".at"))
	}
	return l
}

func cloneLog(l *raft.Log) raft.Log {
	c := *l
	c.Data = append([]byte(nil), l.Data...)
	c.Extensions = append([]byte(nil), l.Extensions...)
	if len(c.Data) == 0 {
		c.Data = nil
	}
	if len(c.Extensions) == 0 {
		c.Extensions = nil
	}
	return c
}

// TestPropertyAgainstModel runs random StoreLogs / DeleteRange / GetLog /
// FirstIndex / LastIndex / reopen sequences against a map model.
func TestPropertyAgainstModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "logstore-prop-")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		s, err := Open(dir)
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { s.Close() }()
		model := map[uint64]raft.Log{}

		checkBounds := func(rt *rapid.T) {
			var want []uint64
			for k := range model {
				want = append(want, k)
			}
			sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
			var wf, wl uint64
			if len(want) > 0 {
				wf, wl = want[0], want[len(want)-1]
			}
			f, err := s.FirstIndex()
			if err != nil || f != wf {
				rt.Fatalf("FirstIndex = %d, %v; model %d", f, err, wf)
			}
			l, err := s.LastIndex()
			if err != nil || l != wl {
				rt.Fatalf("LastIndex = %d, %v; model %d", l, err, wl)
			}
		}

		rt.Repeat(map[string]func(*rapid.T){
			"StoreLogs": func(rt *rapid.T) {
				n := rapid.IntRange(1, 5).Draw(rt, "n")
				logs := make([]*raft.Log, n)
				for i := range logs {
					logs[i] = genLog(rt, "log")
				}
				if err := s.StoreLogs(logs); err != nil {
					rt.Fatal(err)
				}
				for _, l := range logs {
					model[l.Index] = cloneLog(l) // later entries in a batch win
					for i := range l.Data {      // caller scribbles on its slices
						l.Data[i] ^= 0xff
					}
				}
			},
			"DeleteRange": func(rt *rapid.T) {
				min, max := genIndex().Draw(rt, "min"), genIndex().Draw(rt, "max")
				if err := s.DeleteRange(min, max); err != nil {
					rt.Fatal(err)
				}
				for k := range model {
					if k >= min && k <= max {
						delete(model, k)
					}
				}
			},
			"GetLog": func(rt *rapid.T) {
				idx := genIndex().Draw(rt, "idx")
				var got raft.Log
				err := s.GetLog(idx, &got)
				want, ok := model[idx]
				if !ok {
					if err != raft.ErrLogNotFound {
						rt.Fatalf("GetLog(%d) = %v, want raft.ErrLogNotFound", idx, err)
					}
					return
				}
				if err != nil || !logsEqual(&got, &want) {
					rt.Fatalf("GetLog(%d) = %+v, %v; model %+v", idx, got, err, want)
				}
			},
			"Bounds": checkBounds,
			"Reopen": func(rt *rapid.T) {
				if !rapid.Bool().Draw(rt, "reopen") { // keep reopens rare
					return
				}
				if err := s.Close(); err != nil {
					rt.Fatal(err)
				}
				if s, err = Open(dir); err != nil {
					rt.Fatal(err)
				}
			},
			"": checkBounds,
		})
	})
}
