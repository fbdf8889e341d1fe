package raft

import (
	"slices"
	"sort"
)

// memberOrder holds member ids in byte order, for paging through all
// members (Node.MemberPage) at O(limit·log n) a page instead of sorting n
// ids per request.
//
// Members are only ever appended to an engine (index mi = creation order)
// and their ids never change, so the order is kept as sorted runs of ids:
// new ids are sorted into a run of their own, and a run is merged into the
// one before it while that one is not more than twice as long. There are
// thus at most log2(n)+1 runs, each id is merged O(log n) times over its
// life, and a seek is a binary search per run. Compared with an ordered
// tree, runs cost the 16-byte string header per member and nothing else
// (the bytes are the engine's own), and they are built only once someone
// pages: a node that never exports pays nothing.
type memberOrder struct {
	runs [][]string // sorted, disjoint; see compact for their lengths
}

// add inserts ids that are not yet in the order (it sorts ids in place).
func (o *memberOrder) add(ids []string) {
	if len(ids) == 0 {
		return
	}
	slices.Sort(ids)
	o.runs = append(o.runs, ids)
}

// compact merges runs until each is more than twice as long as the next.
// A merge of the longest runs costs O(n) once in a while; callers run it
// outside the apply lock.
func (o *memberOrder) compact() {
	for k := len(o.runs); k >= 2 && len(o.runs[k-2]) <= 2*len(o.runs[k-1]); k = len(o.runs) {
		o.runs[k-2] = mergeRuns(o.runs[k-2], o.runs[k-1])
		o.runs = o.runs[:k-1]
	}
}

func mergeRuns(a, b []string) []string {
	out := make([]string, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] < b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// after appends to dst, in byte order, up to n ids greater than after ("":
// from the first) and returns dst. Cost: a binary search per run, then
// n steps of a merge over the runs' heads.
func (o *memberOrder) after(dst []string, after string, n int) []string {
	heads := make([]int, len(o.runs))
	for r, run := range o.runs {
		heads[r] = sort.Search(len(run), func(i int) bool { return run[i] > after })
	}
	for ; n > 0; n-- {
		best := -1
		for r, run := range o.runs {
			if heads[r] < len(run) && (best < 0 || run[heads[r]] < o.runs[best][heads[best]]) {
				best = r
			}
		}
		if best < 0 {
			break
		}
		dst = append(dst, o.runs[best][heads[best]])
		heads[best]++
	}
	return dst
}
