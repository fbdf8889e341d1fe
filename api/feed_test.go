package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api/wire"
)

// feedWrites books purchases for members M0…M<n-1> and a transfer between
// the first two, so the feed has entries touching one and two members.
func feedWrites(t *testing.T, e *env, prefix string, n int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("[")
	for i := range n {
		fmt.Fprintf(&b, `{"type":"purchase","id":"%s-%d","member":"M%d","partner":"shop","amount":%d},`, prefix, i, i, 5000+100*i)
	}
	fmt.Fprintf(&b, `{"type":"transfer","id":"%s-t","member":"M0","to":"M1","points":20}]`, prefix)
	e.expect("POST", "/v1/commands", opKey, b.String(), 200)
}

func feedChanges(t *testing.T, body string) []wire.Change {
	t.Helper()
	var out []wire.Change
	for _, l := range strings.Split(body, "\n") {
		if l == "" {
			continue // the end, or a keep-alive
		}
		var c wire.Change
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("not a change line: %q", l)
		}
		out = append(out, c)
	}
	return out
}

// TestChangesFeedRefusals: bad cursors, bad parameters and partner keys
// are refused with their codes; a cursor at the end is not an error.
func TestChangesFeedRefusals(t *testing.T) {
	e := newEnv(t, nil)
	feedWrites(t, e, "r", 2)
	last := len(feedChanges(t, e.expect("GET", "/v1/changes?follow=false", roKey, "", 200).body))
	for _, tc := range []struct {
		path, key string
		status    int
		code      string
	}{
		{fmt.Sprintf("/v1/changes?after=%d", last+1), opKey, 416, "cursor_beyond_end"},
		{"/v1/changes?after=18446744073709551615", opKey, 416, "cursor_beyond_end"},
		{"/v1/changes?after=-1", opKey, 400, "invalid"},
		{"/v1/changes?after=s1", opKey, 400, "invalid"},
		{"/v1/changes?after=1&after=2", opKey, 400, "invalid"},
		{"/v1/changes?limit=0", opKey, 400, "invalid"},
		{"/v1/changes?limit=many", opKey, 400, "invalid"},
		{"/v1/changes?cursor=1", opKey, 400, "invalid"},
		{"/v1/changes?follow=maybe", opKey, 400, "invalid"},
		{"/v1/changes?after=0", shopKey, 403, "forbidden"},
		{"/v1/changes?after=0", "", 401, "unauthorized"},
	} {
		if c := e.expect("GET", tc.path, tc.key, "", tc.status).errCode(t); c != tc.code {
			t.Errorf("GET %s: code %s, want %s", tc.path, c, tc.code)
		}
	}
	e.expect("HEAD", "/v1/changes", opKey, "", 200) // no body: the feed does not hold it open
}

// TestChangesFeedResumesWithoutGap: pages read from each page's last seq
// join into the whole feed (no gap, no reordering), seqs run 1, 2, 3, …,
// and every line carries its members' balances after the entry.
func TestChangesFeedResumesWithoutGap(t *testing.T) {
	e := newEnv(t, nil)
	feedWrites(t, e, "g", 6)
	all := feedChanges(t, e.expect("GET", "/v1/changes?follow=false", opKey, "", 200).body)
	for i, c := range all {
		if c.Seq != uint64(i+1) || c.CommandID == "" || c.Kind == "" {
			t.Fatalf("line %d: %+v", i, c)
		}
	}
	tr := all[len(all)-1]
	if tr.Kind != "transfer" || len(tr.Balances) != 2 || tr.Balances[0].Member != "M1" || tr.Balances[1].Member != "M0" {
		t.Fatalf("the transfer's line names both members' balances, the debit's (the receiver) first: %+v", tr)
	}
	for _, b := range tr.Balances {
		r := e.expect("GET", "/v1/members/"+b.Member+"/balance", opKey, "", 200)
		var now wire.Balance
		json.Unmarshal([]byte(r.body), &now)
		if now.Available != b.Available || now.Pending != b.Pending || now.Held != b.Held {
			t.Errorf("%s after the last entry: %+v, balance now %+v", b.Member, b, now)
		}
	}
	var joined []wire.Change
	for after := uint64(0); after < uint64(len(all)); {
		page := feedChanges(t, e.expect("GET", fmt.Sprintf("/v1/changes?after=%d&limit=3&follow=false", after), opKey, "", 200).body)
		joined = append(joined, page...)
		after = page[len(page)-1].Seq
	}
	if !slices.EqualFunc(joined, all, func(a, b wire.Change) bool { return fmt.Sprint(a) == fmt.Sprint(b) }) {
		t.Fatalf("pages of 3 joined (%d lines) differ from one read (%d)", len(joined), len(all))
	}
}

// openFeed opens GET path as a stream and returns its entry lines as they
// come (not the blank keep-alives).
func openFeed(t *testing.T, e *env, path string) <-chan string {
	t.Helper()
	req, _ := http.NewRequest("GET", e.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+opKey)
	resp, err := (&http.Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer resp.Body.Close()
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if sc.Text() != "" {
				lines <- sc.Text()
			}
		}
	}()
	return lines
}

func nextLine(t *testing.T, lines <-chan string) (string, bool) {
	t.Helper()
	select {
	case l, ok := <-lines:
		return l, ok
	case <-time.After(10 * time.Second):
		t.Fatal("no feed line within 10 s")
	}
	return "", false
}

// TestChangesFeedStreamsLaterWrites: a feed opened at the end delivers the
// entries written after it opened, and ends after limit of them.
func TestChangesFeedStreamsLaterWrites(t *testing.T) {
	e := newEnv(t, nil)
	feedWrites(t, e, "a", 2)
	last := len(feedChanges(t, e.expect("GET", "/v1/changes?follow=false", opKey, "", 200).body))
	lines := openFeed(t, e, fmt.Sprintf("/v1/changes?after=%d&limit=3", last))
	feedWrites(t, e, "b", 4)
	for i := range 3 {
		l, ok := nextLine(t, lines)
		if !ok {
			t.Fatalf("the feed ended after %d lines", i)
		}
		if c := feedChanges(t, l)[0]; c.Seq != uint64(last+1+i) {
			t.Fatalf("line %d has seq %d, want %d", i, c.Seq, last+1+i)
		}
	}
	if l, ok := nextLine(t, lines); ok {
		t.Fatalf("a line after limit: %q", l)
	}
}

// TestChangesFeedEndsOnShutdown: an open feed with nothing to send does
// not hold up the server's shutdown.
func TestChangesFeedEndsOnShutdown(t *testing.T) {
	e := newEnv(t, nil)
	lines := openFeed(t, e, "/v1/changes?after=0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.ShutdownWithContext(ctx); err != nil {
		t.Fatalf("shutdown with an open feed: %v", err)
	}
	if _, ok := nextLine(t, lines); ok {
		t.Fatal("a line from an empty ledger")
	}
}
