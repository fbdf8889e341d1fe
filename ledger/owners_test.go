package ledger

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// TestOwnerCacheRoundTrip: every cached owner answers by name and by id,
// across arena and table chunks.
func TestOwnerCacheRoundTrip(t *testing.T) {
	c := newOwnerCache(1 << 20)
	const n = 3 << tableChunkShift // three table chunks
	long := string(make([]byte, 4000))
	for i := range uint32(n) {
		name := fmt.Sprintf("%cmember-%d%s", nsMember, i, long[:i%3*1000]) // some names fill arena chunks fast
		if !c.add(name, i) {
			t.Fatalf("add %d refused", i)
		}
	}
	for i := range uint32(n) {
		name := fmt.Sprintf("%cmember-%d%s", nsMember, i, long[:i%3*1000])
		if id, ok := c.id([]byte(name)); !ok || id != i {
			t.Fatalf("id(%d) = %d, %v", i, id, ok)
		}
		if got, ok := c.name(i); !ok || string(got) != name {
			t.Fatalf("name(%d) = %q, %v", i, got, ok)
		}
		if got, ok := c.nameString(i); !ok || got != name {
			t.Fatalf("nameString(%d) = %q, %v", i, got, ok)
		}
	}
	if _, ok := c.id([]byte{nsMember, 'x'}); ok {
		t.Error("an unknown name resolved")
	}
	if _, ok := c.name(n + 5); ok {
		t.Error("an unknown id has a name")
	}
}

// TestOwnerCacheHashCollision: a name whose hash an earlier name holds
// still resolves to its own id (the hash is only a hint).
func TestOwnerCacheHashCollision(t *testing.T) {
	c := newOwnerCache(10)
	c.add("\x01alice", 1)
	c.byHash[maphash.String(c.seed, "\x01bob")] = 1 // bob's hash now points at alice
	if _, ok := c.id([]byte("\x01bob")); ok {
		t.Fatal("bob resolved to alice's id")
	}
	c.add("\x01bob", 2)
	for name, want := range map[string]uint32{"\x01alice": 1, "\x01bob": 2} {
		if id, ok := c.id([]byte(name)); !ok || id != want {
			t.Errorf("id(%q) = %d, %v; want %d", name, id, ok, want)
		}
	}
}

// TestOwnerCacheFull: a full cache refuses, so the ledger stops treating a
// miss as a new owner.
func TestOwnerCacheFull(t *testing.T) {
	c := newOwnerCache(2)
	if !c.add("\x01a", 0) || !c.add("\x01b", 1) {
		t.Fatal("refused below the bound")
	}
	if c.add("\x01c", 2) {
		t.Error("accepted beyond the bound")
	}
}

// TestOwnerCacheBalanceStable: a balance slot's pointer survives the table
// growing (writeMemberIx holds one while others are created).
func TestOwnerCacheBalanceStable(t *testing.T) {
	c := newOwnerCache(1)
	p := c.balance(3)
	p.available = 42
	c.balance(5 << tableChunkShift)
	if q := c.balance(3); q != p || q.available != 42 {
		t.Errorf("slot moved or lost: %p %p %d", p, q, q.available)
	}
}
