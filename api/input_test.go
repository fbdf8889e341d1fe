package api_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSingleCommandErrorNamesFieldAndRule: a single command refused as
// invalid answers a message that names the field and the rule; its result
// keeps the SPEC §6 form.
func TestSingleCommandErrorNamesFieldAndRule(t *testing.T) {
	e := newEnv(t, nil)
	const head = `{"member":"M1","partner":"shop",`
	for _, tc := range []struct{ path, body, want string }{
		{"/v1/purchases", head + `"id":"` + strings.Repeat("x", 300) + `","amount":100}`, `"id" must be 1 to 64 printable ASCII`},
		{"/v1/purchases", head + `"id":"p1","amount":100,"colour":"red"}`, `unknown field "colour"`},
		{"/v1/purchases", head + `"id":"p1","amount":100.0}`, `"amount" must be a JSON integer`},
		{"/v1/purchases", head + `"id":"p1","amount":100,"at":"yesterday"}`, `"at" must be an RFC 3339 time`},
		{"/v1/purchases", head + `"id":"p1","amount":1,"amount":100000}`, `"amount" appears twice`},
		{"/v1/redemptions", head + `"id":"r1"}`, `a redeem needs the field "points"`},
		{"/v1/redemptions/r1/cancel", `{"id":"c1","reason":"x"}`, `a cancel_redemption takes no field "reason"`},
		{"/v1/quote", head + `"amount":-5}`, `"amount" must be an integer from 1`},
	} {
		r := e.expect("POST", tc.path, opKey, tc.body, 400)
		var a struct {
			Error  struct{ Code, Message string }
			Result map[string]any
		}
		if err := json.Unmarshal([]byte(r.body), &a); err != nil {
			t.Fatalf("%s: %v in %s", tc.path, err, r.body)
		}
		if a.Error.Code != "invalid" || !strings.Contains(a.Error.Message, tc.want) {
			t.Errorf("%s %.50s: message %q, want it to say %q", tc.path, tc.body, a.Error.Message, tc.want)
		}
		if a.Result["status"] != "error" || a.Result["error"] != "invalid" || len(a.Result) != 3 {
			t.Errorf("%s: result %v is not a SPEC §6 rejection", tc.path, a.Result)
		}
	}
}

// TestRepeatedFieldsAreInvalid: a command naming a field twice is
// invalid on every route (SPEC §6, v2.1), and nothing enters the log.
func TestRepeatedFieldsAreInvalid(t *testing.T) {
	e := newEnv(t, nil)
	const dup = `{"type":"purchase","id":"p1","member":"M1","partner":"shop","amount":100,"amount":100000}`
	r := e.expect("POST", "/v1/commands", opKey, "["+dup+"]", 200)
	if r.body != `[{"id":"p1","status":"error","error":"invalid"}]` {
		t.Errorf("batch: %s", r.body)
	}
	r = e.expect("POST", "/v1/stream", opKey, dup+"\n", 200)
	if r.body != `{"id":"p1","status":"error","error":"invalid"}`+"\n" {
		t.Errorf("stream: %s", r.body)
	}
	if _, n := e.mem.Counts(); n != 0 {
		t.Errorf("%d commands entered the log", n)
	}
	// The single routes still take a body that names its own type or
	// original, once, when it agrees with the route.
	e.expect("POST", "/v1/purchases", opKey, `{"type":"purchase","id":"p2","member":"M1","partner":"shop","amount":100}`, 200)
	e.expect("POST", "/v1/quote", opKey, `{"type":"quote","member":"M1","partner":"shop","amount":100}`, 200)
	e.expect("POST", "/v1/redemptions", opKey, `{"id":"r1","member":"M1","partner":"shop","points":10}`, 200)
	e.expect("POST", "/v1/redemptions/r1/cancel", opKey, `{"id":"c1","original":"r1"}`, 200)
}

// TestInvalidUTF8IDAnswersJSON: an id that is not UTF-8 echoes "", so
// every answer stays JSON text.
func TestInvalidUTF8IDAnswersJSON(t *testing.T) {
	e := newEnv(t, nil)
	const bad = "{\"id\":\"p\xff\",\"member\":\"M1\",\"partner\":\"shop\",\"amount\":1.5}"
	for _, c := range []struct{ path, body string }{
		{"/v1/purchases", bad},
		{"/v1/commands", `[{"type":"purchase",` + bad[1:] + `]`},
		{"/v1/stream", `{"type":"purchase",` + bad[1:] + "\n"},
	} {
		r := e.do("POST", c.path, opKey, c.body)
		if !utf8.ValidString(r.body) || !json.Valid([]byte(strings.TrimSpace(r.body))) || !strings.Contains(r.body, `"id":""`) {
			t.Errorf("%s: %d %q is not JSON text echoing id \"\"", c.path, r.status, r.body)
		}
	}
}

// TestWritesRefuseUnknownQueryParameters: POST and PUT routes refuse
// unknown or repeated query parameters, as GET routes do.
func TestWritesRefuseUnknownQueryParameters(t *testing.T) {
	e := newEnv(t, nil)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/commands?colour=red", `[]`},
		{"POST", "/v1/stream?dry_run=1", ""},
		{"POST", "/v1/purchases?x=1", `{"id":"q1","member":"M1","partner":"shop","amount":100}`},
		{"POST", "/v1/redemptions/r1/cancel?x=1", `{"id":"q2"}`},
		{"POST", "/v1/quote?x=1", `{"member":"M1","partner":"shop","amount":100}`},
		{"POST", "/v1/cluster/join?force=1", `{}`},
		{"PUT", "/v1/program?at=2026-07-01T00:00:00Z&force=1", "program: x"},
		{"PUT", "/v1/program?at=2026-07-01T00:00:00Z&at=2026-08-01T00:00:00Z", "program: x"},
	} {
		r := e.expect(c.method, c.path, opKey, c.body, 400)
		if code := r.errCode(t); code != "invalid" || !strings.Contains(r.body, "parameter") {
			t.Errorf("%s %s: %s", c.method, c.path, r.body)
		}
	}
	if _, n := e.mem.Counts(); n != 0 {
		t.Errorf("%d commands entered the log", n)
	}
	// `at` is PUT /v1/program's own parameter (this backend cannot change
	// programs: 501, past the parameter check).
	e.expect("PUT", "/v1/program?at=2026-07-01T00:00:00Z", opKey, "program: x", 501)
}

// TestPartnerStatementShowsOwnEntries: a partner key reads a member's
// balances and, in the statement, only the entries on its own accounts:
// never another partner's, on any page.
func TestPartnerStatementShowsOwnEntries(t *testing.T) {
	e := newEnv(t, nil)
	e.expect("POST", "/v1/commands", opKey, `[
	 {"type":"purchase","id":"s1","member":"M1","partner":"shop","amount":10000,"at":"2026-05-01T00:00:00Z"},
	 {"type":"purchase","id":"c1","member":"M1","partner":"cafe","amount":20000,"at":"2026-05-02T00:00:00Z"},
	 {"type":"redeem","id":"cr1","member":"M1","partner":"cafe","points":50,"at":"2026-05-03T00:00:00Z"},
	 {"type":"adjust","id":"a1","member":"M1","points":5,"at":"2026-05-04T00:00:00Z"},
	 {"type":"redeem","id":"sr1","member":"M1","partner":"shop","points":20,"at":"2026-05-05T00:00:00Z"}]`, 200)
	read := func(key string, limit string) (ids []string) {
		cursor := ""
		for page := 0; page < 20; page++ {
			st := e.expect("GET", "/v1/members/M1/statement?limit="+limit+cursor, key, "", 200).json(t)
			for _, en := range st["entries"].([]any) {
				m := en.(map[string]any)
				ids = append(ids, m["command_id"].(string)+" "+m["debit"].(string)+" "+m["credit"].(string))
			}
			next, _ := st["next"].(string)
			if next == "" {
				return ids
			}
			cursor = "&cursor=" + next
		}
		t.Fatal("statement pages do not end")
		return nil
	}
	for _, limit := range []string{"1", "100"} {
		all, shop, cafe := read(opKey, limit), read(shopKey, limit), read(cafeKey, limit)
		if len(all) < 5 {
			t.Fatalf("operator sees %d entries: %v", len(all), all)
		}
		for who, ids := range map[string][]string{"shop": shop, "cafe": cafe} {
			if len(ids) != 2 {
				t.Errorf("limit %s: %s sees %v, want its earn and its redemption", limit, who, ids)
			}
			for _, id := range ids {
				if !strings.Contains(id, "partner:"+who+":") {
					t.Errorf("limit %s: %s sees an entry not its own: %s", limit, who, id)
				}
			}
		}
	}
	// balances stay visible to every partner (the till needs them)
	e.expect("GET", "/v1/members/M1", cafeKey, "", 200)
	e.expect("GET", "/v1/members/M1/balance", shopKey, "", 200)
}
