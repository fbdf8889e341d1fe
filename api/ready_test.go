package api_test

import "testing"

// While /readyz answers 503, /v1 reads answer 503 too, naming why: a stale read
// or the stats of a node that has not loaded its state would show an old
// or empty one. The cluster routes stay open (an operator needs them to
// see why the node is not ready).
func TestNotReadyRefusesReadsOfLocalState(t *testing.T) {
	e := newEnv(t, nil)
	e.expect("POST", "/v1/purchases", opKey, `{"id":"p1","member":"M1","partner":"shop","amount":1000}`, 200)
	e.srv.SetReady(false)
	for _, path := range []string{"/v1/members/M1?consistency=stale", "/v1/stats", "/v1/stats/kpis",
		"/v1/members/M1/statement", "/v1/program"} {
		if code := e.expect("GET", path, opKey, "", 503).errCode(t); code != "unavailable" {
			t.Errorf("GET %s while not ready: code %q", path, code)
		}
	}
	e.expect("POST", "/v1/purchases", opKey, `{"id":"p2","member":"M1","partner":"shop","amount":1000}`, 200) // the leader's to refuse
	e.expect("GET", "/v1/cluster", opKey, "", 200)
	e.expect("GET", "/v1/members/M1", "", "", 401) // authentication first: a starting node tells nothing
	e.srv.SetReady(true)
	e.expect("GET", "/v1/members/M1?consistency=stale", opKey, "", 200)
}
