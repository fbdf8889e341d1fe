package apply

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/accrual/accrual/engine"
)

// TestReadBatches: every non-blank line arrives once, in order, in batches
// of at most BatchSize; an error from fn stops the reading and is returned.
func TestReadBatches(t *testing.T) {
	const n = 2*BatchSize + 17
	var in bytes.Buffer
	for i := range n {
		fmt.Fprintf(&in, `{"type":"purchase","id":"p-%d","member":"m","partner":"grocer","amount":100,"at":"2026-11-02T09:00:00Z"}`+"\n", i)
		if i%1000 == 0 {
			in.WriteString("  \n\n")
		}
	}
	stream := in.Bytes()
	var sizes []int
	seen := 0
	err := ReadBatches(bytes.NewReader(stream), func(cmds []engine.Command) error {
		sizes = append(sizes, len(cmds))
		for i := range cmds {
			if want := fmt.Sprintf("p-%d", seen); string(cmds[i].ID) != want || cmds[i].Invalid {
				return fmt.Errorf("command %d: id %q invalid %v, want %q", seen, cmds[i].ID, cmds[i].Invalid, want)
			}
			seen++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n || len(sizes) != 3 || sizes[0] != BatchSize || sizes[2] != 17 {
		t.Fatalf("read %d commands in batches %v, want %d in [%d %d 17]", seen, sizes, n, BatchSize, BatchSize)
	}

	stop := errors.New("stop")
	calls := 0
	err = ReadBatches(bytes.NewReader(stream), func([]engine.Command) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("err %v after %d calls, want stop after 1", err, calls)
	}
}
