package api_test

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/accrual/accrual/api/wire"
)

// TestMembersPagesInIDOrder: GET /v1/members pages through every member in
// id byte order with dump-line fields (held and plan only when set), and
// next is "" on the last page.
func TestMembersPagesInIDOrder(t *testing.T) {
	e := newEnv(t, nil)
	e.expect("POST", "/v1/commands", opKey, `[
	 {"type":"purchase","id":"p1","member":"b","partner":"shop","amount":20000,"at":"2026-05-01T00:00:00Z"},
	 {"type":"purchase","id":"p2","member":"a","partner":"shop","amount":10000,"at":"2026-05-02T00:00:00Z"},
	 {"type":"membership","id":"m1","member":"c","plan":"plus","at":"2026-05-03T00:00:00Z"},
	 {"type":"hold","id":"h1","member":"b","partner":"shop","points":50,"at":"2026-05-04T00:00:00Z"},
	 {"type":"adjust","id":"a1","member":"B","points":7,"at":"2026-05-04T00:01:00Z"}]`, 200)
	for _, tc := range []struct {
		limit int
		pages []string // member ids of each page
	}{
		{1, []string{"B", "a", "b", "c"}},
		{3, []string{"B a b", "c"}},
		{4, []string{"B a b c"}},
		{1000, []string{"B a b c"}},
	} {
		after := ""
		for i, want := range tc.pages {
			path := "/v1/members?limit=" + strconv.Itoa(tc.limit)
			if after != "" {
				path += "&after=" + url.QueryEscape(after)
			}
			var page wire.Members
			if err := json.Unmarshal([]byte(e.expect("GET", path, roKey, "", 200).body), &page); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, m := range page.Members {
				ids = append(ids, m.Member)
			}
			last := i == len(tc.pages)-1
			if strings.Join(ids, " ") != want || (page.Next == "") != last || page.Consistency != "linearizable" {
				t.Fatalf("limit %d page %d: %q next %q, want %q (last %v)", tc.limit, i, ids, page.Next, want, last)
			}
			after = page.Next
		}
	}
	body := e.expect("GET", "/v1/members?after=a&limit=2", opKey, "", 200).body
	for _, want := range []string{`{"member":"b","available":250,"pending":0,"tier":"card","earned":300,"redeemed":0,"expired":0,"held":50}`,
		`"plan":"plus"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page %s lacks %s", body, want)
		}
	}
	if strings.Contains(body, `"held":0`) || strings.Count(body, `"plan"`) != 1 {
		t.Errorf("held or plan printed when unset: %s", body)
	}
}

// TestMembersRefusals: a partner key may not list members; bad parameters
// and methods are refused with their codes.
func TestMembersRefusals(t *testing.T) {
	e := newEnv(t, nil)
	for _, tc := range []struct {
		method, path, key string
		status            int
		code              string
	}{
		{"GET", "/v1/members", shopKey, 403, "forbidden"},
		{"GET", "/v1/members", "", 401, "unauthorized"},
		{"GET", "/v1/members?limit=0", opKey, 400, "invalid"},
		{"GET", "/v1/members?limit=1001", opKey, 400, "invalid"},
		{"GET", "/v1/members?after=bad%20id", opKey, 400, "invalid"},
		{"GET", "/v1/members?cursor=x", opKey, 400, "invalid"},
		{"GET", "/v1/members?after=a&after=b", opKey, 400, "invalid"},
		{"POST", "/v1/members", opKey, 405, "method_not_allowed"},
	} {
		if c := e.expect(tc.method, tc.path, tc.key, "", tc.status).errCode(t); c != tc.code {
			t.Errorf("%s %s: code %s, want %s", tc.method, tc.path, c, tc.code)
		}
	}
	if body := e.expect("GET", "/v1/members", opKey, "", 200).body; !strings.Contains(body, `"members":[]`) {
		t.Errorf("empty list: %s", body)
	}
}
