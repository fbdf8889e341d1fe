package pgpeer

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/engine"
)

// TestSchemaStatements: the schema splits into the expected statements,
// the function body staying whole.
func TestSchemaStatements(t *testing.T) {
	st := Statements(Schema)
	var tables, fns int
	for _, s := range st {
		if strings.HasPrefix(s, "CREATE TABLE") {
			tables++
		}
		if strings.HasPrefix(s, "CREATE OR REPLACE FUNCTION") {
			fns++
			if !strings.HasSuffix(s, "$fn$") || !strings.Contains(s, "END IF;") {
				t.Errorf("function body split: %q", s[len(s)-40:])
			}
		}
	}
	if tables != 7 || fns != 1 || len(st) != 10 {
		t.Fatalf("%d statements, %d tables, %d functions", len(st), tables, fns)
	}
	got := Statements("select ';' ; -- a comment; here\n select $x$ a; b $x$;")
	if len(got) != 2 || got[0] != "select ';'" || got[1] != "select $x$ a; b $x$" {
		t.Fatalf("%q", got)
	}
}

const testProgram = `
program: t
unit: points
earn: {rate: {points: 1, per: 100}, categories: {fuel: {points: 1, per: 200}}}
pending_days: 0
tiers:
  metric: spend
  levels:
    - {name: base, threshold: 0, multiplier_bp: 10000}
    - {name: gold, threshold: 100000, multiplier_bp: 15000}
caps: {per_purchase: 5000}
redemption: {min_points: 10}
partners:
  - {id: shop}
  - {id: gas, rate: {points: 1, per: 50}}
`

// TestPostgres runs a small stream against a real server (skipped when
// initdb/postgres are not installed or cannot run here).
func TestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("short: no PostgreSQL server")
	}
	if err := Available(); err != nil {
		t.Skipf("PostgreSQL cannot run here: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv, err := Start(ctx)
	if err != nil {
		t.Skipf("PostgreSQL server did not start: %v", err)
	}
	defer srv.Stop()
	p, err := engine.ParseProgram([]byte(testProgram))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := Open(ctx, srv.URL, p, 1, srv.PIDs)
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	stream := []string{
		`{"type":"purchase","id":"a","member":"M1","partner":"shop","amount":10000,"at":"2026-01-01T00:00:00Z"}`,                  // 100 pts
		`{"type":"purchase","id":"b","member":"M1","partner":"gas","amount":95000,"category":"fuel","at":"2026-01-01T00:01:00Z"}`, // partner rate 1/50: 1900
		`{"type":"purchase","id":"c","member":"M1","partner":"shop","amount":10000,"at":"2026-01-01T00:02:00Z"}`,                  // gold: 150
		`{"type":"refund","id":"d","member":"M1","partner":"shop","original":"a","amount":5000,"at":"2026-01-01T00:03:00Z"}`,      // -50
		`{"type":"redeem","id":"e","member":"M1","partner":"shop","points":5,"at":"2026-01-01T00:04:00Z"}`,                        // below min
		`{"type":"redeem","id":"f","member":"M1","partner":"shop","points":100000,"at":"2026-01-01T00:04:00Z"}`,                   // insufficient
		`{"type":"redeem","id":"g","member":"M1","partner":"shop","points":1000,"at":"2026-01-01T00:05:00Z"}`,
		`{"type":"cancel_redemption","id":"h","original":"g","at":"2026-01-01T00:06:00Z"}`,
		`{"type":"cancel_redemption","id":"i","original":"g","at":"2026-01-01T00:06:00Z"}`,
		`{"type":"purchase","id":"a","member":"M1","partner":"shop","amount":1,"at":"2026-01-01T00:07:00Z"}`, // id conflict
		`{"type":"purchase","id":"j","member":"M1","partner":"nope","amount":1,"at":"2026-01-01T00:07:00Z"}`,
		`{"type":"tick","at":"2026-01-01T00:08:00Z"}`,
	}
	lines := make([][]byte, len(stream))
	for i, s := range stream {
		lines[i] = []byte(s)
	}
	out, err := tg.Submit(ctx, lines, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, srv.LogTail())
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	want := []string{
		`"available":100`, `"available":2000`, `"available":2150`, `"available":2100`,
		`"error":"below_min_redemption"`, `"error":"insufficient_points"`, `"available":1100`,
		`"available":2100`, `"error":"already_cancelled"`, `"error":"id_conflict"`, `"error":"unknown_partner"`, `"status":"ok"`,
	}
	if len(got) != len(want) {
		t.Fatalf("%d results for %d commands:\n%s", len(got), len(want), out)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("command %d: %s, want %s", i, got[i], want[i])
		}
	}
	st, err := tg.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Members != 1 || st.LedgerRows == 0 {
		t.Fatalf("stats %+v", st)
	}
}
