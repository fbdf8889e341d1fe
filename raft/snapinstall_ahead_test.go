package raft

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
	"github.com/hashicorp/go-hclog"
)

// TestInstallBelowTheLedgerKeepsTheFollowersRecords: a follower whose
// ledger is ahead of the snapshot it installs (it applied logs the leader
// had not applied yet when it shipped its records) re-applies the logs
// above the snapshot without writing their ledger entries; the command
// records those logs changed must still reach its store, or the leader's
// older copies shipped with the snapshot stay there: a refund it applied
// is forgotten once the record is evicted, and a later refund of the same
// purchase is accepted beyond what is left (the replicas diverge from the
// log).
func TestInstallBelowTheLedgerKeepsTheFollowersRecords(t *testing.T) {
	p := loadProgram(t, "coalition")
	partner := p.Partners[0].ID
	var dec engine.Decoder
	cmd := func(line string) []engine.Command {
		var c engine.Command
		dec.Decode([]byte(line), &c)
		if c.Invalid {
			t.Fatalf("invalid: %s", line)
		}
		return []engine.Command{c}
	}
	filler := func(i int) []engine.Command { return purchases(t, p, "fill", i, 1) }
	logs := [][]engine.Command{
		1: cmd(fmt.Sprintf(`{"type":"purchase","id":"x","member":"MX","partner":%q,"amount":10000,"at":"2026-01-01T00:00:00Z"}`, partner)),
		2: filler(2),
		3: filler(3),
		4: cmd(fmt.Sprintf(`{"type":"refund","id":"r1","member":"MX","partner":%q,"original":"x","amount":6000,"at":"2026-01-01T01:00:00Z"}`, partner)),
		5: filler(5),
		6: cmd(fmt.Sprintf(`{"type":"refund","id":"r2","member":"MX","partner":%q,"original":"x","amount":6000,"at":"2026-01-01T02:00:00Z"}`, partner)),
		7: filler(7),
	}
	const snapAt, followerAt = 3, 5
	newFSMWindow := func() *fsm {
		led, err := ledger.Open(filepath.Join(t.TempDir(), "ledger"), ledger.Options{})
		if err != nil {
			t.Fatal(err)
		}
		f := newFSM(p, led, hclog.NewNullLogger(), func() bool { return false }, 1)
		f.spoolDir = t.TempDir()
		t.Cleanup(func() { f.close(); led.Close() })
		return f
	}
	apply := func(f *fsm, from, to int) {
		for i := from; i <= to; i++ {
			applyEntry(t, f, uint64(i), logs[i])
			f.lw.drain()
		}
	}

	want := newFSMWindow()
	apply(want, 1, len(logs)-1)

	leader := newFSMWindow()
	apply(leader, 1, snapAt)
	stream := shippedSnapshot(t, leader, snapAt)

	follower := newFSMWindow()
	apply(follower, 1, followerAt)
	if err := follower.Restore(stream); err != nil {
		t.Fatal(err)
	}
	apply(follower, snapAt+1, len(logs)-1)
	if got, w := follower.stateHash(), want.stateHash(); got != w {
		t.Fatalf("after installing a snapshot at %d below its ledger (%d) and applying the log to %d: state hash %x, a replay of the log %x",
			snapAt, followerAt, len(logs)-1, got, w)
	}
}

// shippedSnapshot is what a leader sends: its snapshot at index with the
// ledger section (shippingStore.openWithLedger).
func shippedSnapshot(t *testing.T, leader *fsm, index uint64) io.ReadCloser {
	t.Helper()
	return withLedgerSection(t, persistedSnapshot(t, leader), leader.led, index)
}

// withLedgerSection opens the persisted snapshot at path followed by the
// ledger section of led up to index, as a leader sends it.
func withLedgerSection(t *testing.T, path string, led *ledger.Ledger, index uint64) io.ReadCloser {
	t.Helper()
	store := &shippingStore{dir: t.TempDir(), led: led}
	section, err := store.writeSection(index)
	if err != nil {
		t.Fatal(err)
	}
	defer closeTemp(section)
	b, err := io.ReadAll(section)
	if err != nil {
		t.Fatal(err)
	}
	engineStream, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shipped := filepath.Join(t.TempDir(), "shipped")
	if err := os.WriteFile(shipped, append(engineStream, b...), 0o600); err != nil {
		t.Fatal(err)
	}
	rc, err := os.Open(shipped)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}
