package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/accrual/accrual/api/wire"
)

// strictly decodes an answer into v, refusing keys v does not have.
func strictly(t *testing.T, what, body string, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader([]byte(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v in %s", what, err, body)
	}
}

// TestBackendShapes: every read answered from apitest.Mem decodes strictly
// into the wire type production answers with (cmd/accrual pins production
// to the same types), with its fields set.
func TestBackendShapes(t *testing.T) {
	e := newEnv(t, nil)
	e.expect("POST", "/v1/commands", opKey, `[
	 {"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":200000,"at":"2026-05-01T00:00:00Z"},
	 {"type":"redeem","id":"r1","member":"M1","partner":"shop","points":50,"at":"2026-05-02T00:00:00Z"}]`, 200)

	var m wire.Member
	strictly(t, "member", e.expect("GET", "/v1/members/M1?lots=true", opKey, "", 200).body, &m)
	if m.Member != "M1" || m.Available == 0 || m.Tier == "" || len(m.Lots) == 0 || m.AppliedIndex == 0 || m.Consistency == "" {
		t.Errorf("member %+v", m)
	}
	// lots only when asked for (asked for and none: [], at the end)
	if body := e.expect("GET", "/v1/members/M1", opKey, "", 200).body; strings.Contains(body, `"lots"`) {
		t.Errorf("member without lots=true: %s", body)
	}
	var st wire.Statement
	strictly(t, "statement", e.expect("GET", "/v1/members/M1/statement?limit=1", opKey, "", 200).body, &st)
	if len(st.Entries) != 1 || st.Next == "" {
		t.Errorf("statement %+v", st)
	}
	for _, en := range st.Entries {
		if en.Seq == 0 || en.At == "" || en.CommandID == "" || en.Kind == "" || en.Debit == "" || en.Credit == "" || en.Points == 0 {
			t.Errorf("entry %+v", en)
		}
	}
	var b wire.Balance
	strictly(t, "balance", e.expect("GET", "/v1/members/M1/balance?at=2026-05-10T00:00:00Z", opKey, "", 200).body, &b)
	if b.Member != "M1" || b.At != "2026-05-10T00:00:00.000Z" || b.Available != 2000+100-50 {
		t.Errorf("balance %+v", b)
	}
	var c wire.CommandEntries
	strictly(t, "command", e.expect("GET", "/v1/commands/p1", opKey, "", 200).body, &c)
	if c.ID != "p1" || len(c.Entries) == 0 || c.Entries[0].CommandID != "p1" {
		t.Errorf("command %+v", c)
	}
	var s wire.Settlement
	strictly(t, "settlement", e.expect("GET", "/v1/partners/shop/settlement?from=2026-05-01T00:00:00Z&to=2026-06-01T00:00:00Z", opKey, "", 200).body, &s)
	if s.From != "2026-05-01T00:00:00.000Z" || s.To == "" || s.Partner.Partner != "shop" || s.Partner.Issued == 0 ||
		s.Partner.Redeemed != 50 || s.Partner.Net != s.Partner.Issued-50 || len(s.Partner.Days) != 2 || s.Partner.Days[1].Redeemed != 50 {
		t.Errorf("settlement %+v", s)
	}
	var stats wire.Stats
	strictly(t, "stats", e.expect("GET", "/v1/stats", opKey, "", 200).body, &stats)
	if stats.Members != 1 || stats.Commands != 2 || stats.Issued == 0 || stats.Redeemed != 50 || stats.RedemptionRate == 0 || stats.AppliedIndex == 0 {
		t.Errorf("stats %+v", stats)
	}
	var cl wire.Status
	strictly(t, "cluster", e.expect("GET", "/v1/cluster", opKey, "", 200).body, &cl)
	if cl.ID == "" || cl.State != "Leader" || cl.AppliedIndex == 0 || len(cl.Servers) != 1 {
		t.Errorf("cluster %+v", cl)
	}
	e.expect("POST", "/v1/redemptions", opKey, `{"id":"r2","member":"M1","partner":"shop","points":2050,"at":"2026-05-03T00:00:00Z"}`, 200)
	if body := e.expect("GET", "/v1/members/M1?lots=true", opKey, "", 200).body; !strings.Contains(body, `"lots":[]`) {
		t.Errorf("member with no lots and lots=true: %s", body)
	}
}

// TestBackendErrorShapes: error answers decode strictly into
// wire.ErrorAnswer and answer with their code's status.
func TestBackendErrorShapes(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct {
		method, path, key, body string
		code                    wire.ErrorCode
	}{
		{"GET", "/v1/members/NOBODY", opKey, "", wire.NotFound},
		{"GET", "/v1/nope", opKey, "", wire.NotFound},
		{"GET", "/v1/members/M1?colour=red", opKey, "", wire.Invalid},
		{"GET", "/v1/stats", "", "", wire.Unauthorized},
		{"GET", "/v1/stats", shopKey, "", wire.Forbidden},
		{"DELETE", "/v1/stats", opKey, "", wire.MethodNotAllowed},
		{"POST", "/v1/redemptions", opKey, `{"id":"r9","member":"M9","partner":"shop","points":50}`, "insufficient_points"},
	} {
		r := e.do(c.method, c.path, c.key, c.body)
		var a wire.ErrorAnswer
		strictly(t, c.path, r.body, &a)
		if a.Error.Code != c.code || r.status != c.code.Status() || a.Error.Message == "" {
			t.Errorf("%s %s: %d %+v, want %s (%d)", c.method, c.path, r.status, a.Error, c.code, c.code.Status())
		}
	}
	if wire.Invalid.Status() != http.StatusBadRequest || wire.IDConflict.Status() != http.StatusConflict ||
		wire.ErrorCode("insufficient_points").Status() != http.StatusUnprocessableEntity {
		t.Error("the statuses of single-command rejections")
	}
}
