package raft

import (
	"runtime"
	"time"

	"github.com/accrual/accrual/engine"
)

// viewSweep is how many members' views a batch republishes after a
// program change.
const viewSweep = 16384

// viewPublisher is the fsm's bookkeeping of the published views (under
// the apply lock): what changes them by the clock alone and when.
type viewPublisher struct {
	year int             // UTC year of the clock at the last publication
	prog *engine.Program // the program the views were last computed under
	ends viewDeadlines   // plan ends of the published views
	// The sweep after a program change: members [sweepNext, sweepEnd) are
	// still to republish.
	sweepNext, sweepEnd int32
}

// publish makes member mi's view at the clock the one reads see, and
// notes when that view ends by the clock alone.
func (f *fsm) publish(mi int32) {
	fig, id, changesAtMS := f.eng.Figures(mi)
	f.views.put(mi, id, &fig)
	f.pub.ends.set(mi, changesAtMS)
}

// refreshViews, after a batch's touched members are published, covers what
// Touched cannot: a view is computed at the clock of its publication, and
// some of it changes with the clock alone (maturation, expiry and hold
// deadlines come through ticks as touches). When the clock enters a new
// UTC year (the yearly tier reset) every view is republished; the views
// whose plan ended by the clock are republished; when a program change has
// taken effect (new tier thresholds), the views are republished viewSweep
// members a batch from the first.
func (f *fsm) refreshViews() {
	n := int32(f.eng.Members())
	pub := &f.pub
	if p := f.eng.Program(); p != pub.prog {
		pub.prog = p
		f.views.setProgram(p)
		pub.sweepNext, pub.sweepEnd = 0, n
	}
	if y := time.UnixMilli(f.eng.ClockMS()).UTC().Year(); y != pub.year {
		pub.year = y
		for mi := range n {
			f.publish(mi)
		}
		pub.sweepEnd = 0
		return
	}
	// Republishing a view whose plan ended drops its deadline (the view
	// shows no plan) or moves it to a renewed plan's end, later than now.
	for pub.ends.len() > 0 && pub.ends.top().atMS <= f.eng.ClockMS() {
		f.publish(pub.ends.top().member)
	}
	for end := min(pub.sweepEnd, pub.sweepNext+viewSweep); pub.sweepNext < end; pub.sweepNext++ {
		f.publish(pub.sweepNext)
	}
}

// republishAll publishes every member's view of a new engine (a restored
// snapshot) into an emptied store; collect runs the garbage collector
// between, so the views of a dropped state go before the new ones come.
func (f *fsm) republishAll(collect bool) {
	eng := f.eng
	f.pub = viewPublisher{ends: f.pub.ends, prog: eng.Program(), year: time.UnixMilli(eng.ClockMS()).UTC().Year()}
	f.pub.ends.reset()
	f.views.reset(eng.Members(), eng.Program())
	if collect {
		runtime.GC()
	}
	for mi := range int32(eng.Members()) {
		f.publish(mi)
	}
}
