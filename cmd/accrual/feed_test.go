package main

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/accrual/accrual/client"
)

// feedOf reads a node's whole change feed (GET /v1/changes?follow=false)
// from cursor after, as JSON lines.
func feedOf(t *testing.T, httpAddr, key string, after uint64) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var lines []string
	err := client.New("http://"+httpAddr, key).Changes(ctx, client.ChangesQuery{After: after}, func(c *client.Change) error {
		b, err := json.Marshal(c)
		lines = append(lines, string(b))
		return err
	})
	return lines, err
}

// feedsEqual waits until the replicas' change feeds are equal and not
// empty (a follower may still be applying), then checks that the feed
// read half from one replica and resumed from the cursor on another is the
// same: the same entries, in the same order, under the same seqs.
func feedsEqual(t *testing.T, key string, nodes []*node) {
	t.Helper()
	var want []string
	for try := 0; ; try++ {
		var err error
		if want, err = feedOf(t, nodes[0].http, key, 0); err != nil {
			t.Fatalf("%s: %v", nodes[0].id, err)
		}
		same := len(want) > 0
		for _, n := range nodes[1:] {
			got, err := feedOf(t, n.http, key, 0)
			if err != nil {
				t.Fatalf("%s: %v", n.id, err)
			}
			same = same && slices.Equal(got, want)
		}
		if same {
			break
		}
		if try == 100 {
			t.Fatalf("the replicas' change feeds never agreed (%d lines on %s)", len(want), nodes[0].id)
		}
		time.Sleep(100 * time.Millisecond)
	}
	half := uint64(len(want) / 2)
	first, err := feedOf(t, nodes[0].http, key, 0)
	if err != nil {
		t.Fatal(err)
	}
	rest, err := feedOf(t, nodes[len(nodes)-1].http, key, half)
	if err != nil {
		t.Fatal(err)
	}
	if joined := append(first[:half:half], rest...); !slices.Equal(joined, want) {
		t.Fatalf("the feed resumed at seq %d on %s differs from one read on %s", half, nodes[len(nodes)-1].id, nodes[0].id)
	}
}
