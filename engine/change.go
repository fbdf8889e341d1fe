package engine

import "fmt"

// A program change (PUT /v1/program) travels through the log like a
// command. It takes effect for the first command whose effective time is at
// or after its `at`, on every replica alike. The engine keeps its tables
// indexed by partner, tier level, plan, action and challenge, so a new
// program must keep the old ones, in the same order, and may add more at the
// end; Compatible says which field breaks that.

// Compatible reports whether next can replace cur without reindexing
// state; the error is a ProgramError naming the field.
func Compatible(cur, next *Program) error {
	if next.Unit != cur.Unit {
		return perr("unit", "cannot change from %s to %s: balances are in %s", cur.Unit, next.Unit, cur.Unit)
	}
	if next.PendingDays < cur.PendingDays {
		return perr("pending_days", "may grow but not shrink (%d → %d): pending lots mature in the order they were created", cur.PendingDays, next.PendingDays)
	}
	if len(next.Partners) < len(cur.Partners) {
		return perr("partners", "must keep all %d partners; new ones go at the end", len(cur.Partners))
	}
	for i := range cur.Partners {
		if next.Partners[i].ID != cur.Partners[i].ID {
			return perr(fmt.Sprintf("partners[%d].id", i), "must stay %q: existing partners keep their order, new ones go at the end", cur.Partners[i].ID)
		}
	}
	if len(next.Levels) < len(cur.Levels) {
		return perr("tiers.levels", "must keep all %d levels; new ones go at the end", len(cur.Levels))
	}
	for i := range cur.Levels {
		if next.Levels[i].Name != cur.Levels[i].Name {
			return perr(fmt.Sprintf("tiers.levels[%d].name", i), "must stay %q", cur.Levels[i].Name)
		}
	}
	if len(next.Plans) < len(cur.Plans) {
		return perr("plans", "must keep all %d plans; new ones go at the end", len(cur.Plans))
	}
	for i := range cur.Plans {
		if next.Plans[i].ID != cur.Plans[i].ID {
			return perr(fmt.Sprintf("plans[%d].id", i), "must stay %q", cur.Plans[i].ID)
		}
	}
	if len(next.Actions) < len(cur.Actions) {
		return perr("actions", "must keep all %d actions; new ones go at the end", len(cur.Actions))
	}
	for i := range cur.Actions {
		if next.Actions[i].ID != cur.Actions[i].ID {
			return perr(fmt.Sprintf("actions[%d].id", i), "must stay %q", cur.Actions[i].ID)
		}
	}
	if len(next.Challenges) < len(cur.Challenges) {
		return perr("challenges", "must keep all %d challenges; new ones go at the end", len(cur.Challenges))
	}
	for i := range cur.Challenges {
		if next.Challenges[i].ID != cur.Challenges[i].ID {
			return perr(fmt.Sprintf("challenges[%d].id", i), "must stay %q", cur.Challenges[i].ID)
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
	e.prog, e.next = e.next, nil
	for len(e.partnerIssued) < len(e.prog.Partners) {
		e.partnerIssued = append(e.partnerIssued, 0)
		e.partnerRedeemed = append(e.partnerRedeemed, 0)
	}
}
