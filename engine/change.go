package engine

import "fmt"

// A program change (PUT /v1/program) travels through the log like a
// command. It takes effect for the first command whose effective time is at
// or after its `at`, on every replica alike. The engine keeps its tables
// indexed by partner, tier level, plan, action, challenge, offer and
// reward, so a new program must keep the old ones, in the same order, and
// may add more at the end; Compatible says which field breaks that.
// Campaign budgets are kept by campaign id (retail.go), so campaigns may
// change freely: a campaign that keeps its id keeps what it spent.

// Compatible reports whether next can replace cur without reindexing
// state; the error is a ProgramError naming the field.
func Compatible(cur, next *Program) error {
	if next.Unit != cur.Unit {
		return perr("unit", "cannot change from %s to %s: balances are in %s", cur.Unit, next.Unit, cur.Unit)
	}
	if next.PendingDays < cur.PendingDays {
		return perr("pending_days", "may grow but not shrink (%d → %d): pending lots mature in the order they were created", cur.PendingDays, next.PendingDays)
	}
	ids := func(n int, id func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = id(i)
		}
		return out
	}
	for _, f := range []struct {
		field     string
		cur, next []string
	}{
		{"partners", ids(len(cur.Partners), func(i int) string { return cur.Partners[i].ID }), ids(len(next.Partners), func(i int) string { return next.Partners[i].ID })},
		{"tiers.levels", ids(len(cur.Levels), func(i int) string { return cur.Levels[i].Name }), ids(len(next.Levels), func(i int) string { return next.Levels[i].Name })},
		{"plans", ids(len(cur.Plans), func(i int) string { return cur.Plans[i].ID }), ids(len(next.Plans), func(i int) string { return next.Plans[i].ID })},
		{"actions", ids(len(cur.Actions), func(i int) string { return cur.Actions[i].ID }), ids(len(next.Actions), func(i int) string { return next.Actions[i].ID })},
		{"challenges", ids(len(cur.Challenges), func(i int) string { return cur.Challenges[i].ID }), ids(len(next.Challenges), func(i int) string { return next.Challenges[i].ID })},
		{"offers", ids(len(cur.Offers), func(i int) string { return cur.Offers[i].ID }), ids(len(next.Offers), func(i int) string { return next.Offers[i].ID })},
		{"rewards", ids(len(cur.Rewards), func(i int) string { return cur.Rewards[i].ID }), ids(len(next.Rewards), func(i int) string { return next.Rewards[i].ID })},
	} {
		if err := keepsOrder(f.field, f.cur, f.next); err != nil {
			return err
		}
	}
	return nil
}

// ScheduleProgram makes next the program from atMS on. A change scheduled
// before an earlier one took effect replaces it. The check is against the
// program that will be current when next takes effect.
func (e *Engine) ScheduleProgram(next *Program, atMS int64) error {
	if err := Compatible(e.prog, next); err != nil {
		return err
	}
	e.next, e.nextAtMS = next, atMS
	return nil
}

// PendingProgram returns a scheduled program change, if any.
func (e *Engine) PendingProgram() (*Program, int64, bool) {
	return e.next, e.nextAtMS, e.next != nil
}

// switchProgram installs a scheduled program once time t reaches it.
func (e *Engine) switchProgram(t int64) {
	if e.next == nil || t < e.nextAtMS {
		return
	}
	prev := e.prog
	e.prog, e.next = e.next, nil
	if dueEarlier(prev, e.prog) {
		e.requeueAll()
	}
	for len(e.partnerIssued) < len(e.prog.Partners) {
		e.partnerIssued = append(e.partnerIssued, 0)
		e.partnerRedeemed = append(e.partnerRedeemed, 0)
	}
	for len(e.claimed) < len(e.prog.Rewards) {
		e.claimed = append(e.claimed, 0)
	}
}

// dueEarlier reports whether under next points may expire earlier than
// under cur, before the tick queue's items (due.go): a new expiry mode
// reads dates cur ignored, and shorter inactivity comes sooner. (A lot
// keeps the expiry it was given, and pending_days only grows.)
func dueEarlier(cur, next *Program) bool {
	return next.ExpiryMode != cur.ExpiryMode ||
		next.ExpiryMode == ExpiryInactivity && next.ExpiryDays < cur.ExpiryDays
}

// keepsOrder checks that next starts with cur: existing entries keep their
// index, new ones go at the end.
func keepsOrder(field string, cur, next []string) error {
	if len(next) < len(cur) {
		return perr(field, "must keep all %d entries; new ones go at the end", len(cur))
	}
	key := "id"
	if field == "tiers.levels" {
		key = "name"
	}
	for i := range cur {
		if next[i] != cur[i] {
			return perr(fmt.Sprintf("%s[%d].%s", field, i, key), "must stay %q: existing entries keep their order, new ones go at the end", cur[i])
		}
	}
	return nil
}
