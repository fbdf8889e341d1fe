package bench

import (
	"bytes"
	"context"
	"fmt"

	"github.com/accrual/accrual/engine"
)

// Validation is the outcome of --validate.
type Validation struct {
	OK         bool     `json:"ok"`
	Method     string   `json:"method"`
	Commands   int64    `json:"commands_replayed"`
	Members    int      `json:"members"`
	Checked    int      `json:"members_checked"`
	Mismatches int      `json:"mismatches"`
	Examples   []string `json:"examples,omitempty"`
}

func (v *Validation) mismatch(format string, args ...any) {
	v.Mismatches++
	if len(v.Examples) < 10 {
		v.Examples = append(v.Examples, fmt.Sprintf(format, args...))
	}
}

// ReplayOffline applies the acknowledged batches (NDJSON, in order) to a
// fresh engine, in the same batches.
func ReplayOffline(p *engine.Program, batches [][]byte) (*engine.Engine, int64) {
	eng := engine.New(p)
	var (
		dec  engine.Decoder
		cmds []engine.Command
		res  []engine.Result
		ents []engine.Entry
		n    int64
	)
	for _, b := range batches {
		dec.Reset()
		cmds = cmds[:0]
		for _, l := range splitLines(b, nil) {
			cmds = append(cmds, engine.Command{})
			dec.Decode(l, &cmds[len(cmds)-1])
		}
		res, ents = eng.Apply(cmds, res[:0], ents[:0])
		n += int64(len(cmds))
	}
	return eng, n
}

func dumpLines(e *engine.Engine) [][]byte {
	var out [][]byte
	_ = e.Dump(func(v *engine.MemberView) error {
		out = append(out, engine.AppendDumpJSON(nil, v))
		return nil
	})
	return out
}

// ValidateEngine replays what an engine or replay target applied on a second,
// fresh engine and compares the full dumps (SPEC §8) member by member.
func ValidateEngine(p *engine.Program, t *EngineTarget) Validation {
	fresh, n := ReplayOffline(p, t.Applied())
	v := Validation{Method: "full dump of a fresh engine vs the target's engine", Commands: n}
	a, b := dumpLines(t.Engine()), dumpLines(fresh)
	v.Members = len(a)
	if len(a) != len(b) {
		v.mismatch("members: target %d, offline %d", len(a), len(b))
	}
	for i := 0; i < min(len(a), len(b)); i++ {
		v.Checked++
		if !bytes.Equal(a[i], b[i]) {
			v.mismatch("target %s, offline %s", a[i], b[i])
		}
	}
	v.OK = v.Mismatches == 0 && v.Commands > 0
	return v
}

// ValidateBalances replays the acknowledged batches offline and compares a
// sample of about `sample` members (every k-th of the sorted dump) with what
// the target reports. The acknowledged order must be the order the target
// applied them in, which holds for one client; with several concurrent
// clients batches racing each other may legitimately differ (a redemption
// accepted before or after a purchase).
func ValidateBalances(ctx context.Context, p *engine.Program, acked [][]byte, r BalanceReader, sample int) (Validation, error) {
	fresh, n := ReplayOffline(p, acked)
	v := Validation{Method: "offline replay of acknowledged commands vs target reads (sample)", Commands: n}
	var views []engine.MemberView
	_ = fresh.Dump(func(mv *engine.MemberView) error {
		views = append(views, *mv)
		return nil
	})
	v.Members = len(views)
	step := 1
	if sample > 0 && len(views) > sample {
		step = len(views) / sample
	}
	for i := 0; i < len(views); i += step {
		want := views[i]
		got, found, err := r.Balance(ctx, want.Member)
		if err != nil {
			return v, err
		}
		v.Checked++
		switch {
		case !found:
			v.mismatch("%s: missing on the target", want.Member)
		case got.Available != want.Available || got.Pending != want.Pending || got.Held != want.Held || got.Tier != want.Tier:
			v.mismatch("%s: target available=%d pending=%d held=%d tier=%s, offline available=%d pending=%d held=%d tier=%s",
				want.Member, got.Available, got.Pending, got.Held, got.Tier, want.Available, want.Pending, want.Held, want.Tier)
		}
	}
	v.OK = v.Mismatches == 0 && v.Commands > 0
	return v, nil
}
