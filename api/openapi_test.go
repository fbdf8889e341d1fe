package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/accrual/accrual/api"
)

// openAPI is the parts of the description the tests read.
type openAPI struct {
	OpenAPI    string                          `json:"openapi"`
	Paths      map[string]map[string]operation `json:"paths"`
	Components struct {
		Parameters map[string]parameter `json:"parameters"`
		Schemas    map[string]*schema   `json:"schemas"`
	} `json:"components"`
}

type operation struct {
	Parameters  []parameter         `json:"parameters"`
	RequestBody *content            `json:"requestBody"`
	Responses   map[string]*content `json:"responses"`
}

type parameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type content struct {
	Content map[string]struct {
		Schema *schema `json:"schema"`
	} `json:"content"`
}

func loadOpenAPI(t *testing.T, e *env) *openAPI {
	t.Helper()
	r := e.expect("GET", "/openapi.json", "", "", http.StatusOK)
	var doc openAPI
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi %q, content type %q", doc.OpenAPI, r.header.Get("Content-Type"))
	}
	if r.body != string(api.OpenAPI()) {
		t.Fatal("GET /openapi.json is not the embedded description")
	}
	return &doc
}

// TestOpenAPIDescribesEveryRoute: the description served at /openapi.json
// lists exactly the routes of the router's table, each route of the table
// reaches a handler, and a path or method outside the table is refused.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := newEnv(t, nil)
	doc := loadOpenAPI(t, e)
	var described, routed []string
	for path, ops := range doc.Paths {
		for method := range ops {
			described = append(described, strings.ToUpper(method)+" "+path)
		}
	}
	for _, r := range api.Routes() {
		routed = append(routed, r.Method+" "+r.Path)
	}
	slices.Sort(described)
	slices.Sort(routed)
	for _, r := range routed {
		if !slices.Contains(described, r) {
			t.Errorf("route %s is not in api/openapi.json", r)
		}
	}
	for _, d := range described {
		if !slices.Contains(routed, d) {
			t.Errorf("api/openapi.json describes %s, which the route table lacks", d)
		}
	}
	sample := strings.NewReplacer("{id}", "p1", "{member}", "M1", "{partner}", "shop", "{file}", "app.css")
	for _, r := range api.Routes() {
		path := sample.Replace(r.Path)
		if path == "/v1/changes" {
			path += "?follow=false" // else the feed stays open for new entries
		}
		body := "{}"
		if r.Method == "GET" {
			body = ""
		}
		got := e.do(r.Method, path, opKey, body)
		if got.status == http.StatusMethodNotAllowed || got.status == http.StatusNotFound && strings.Contains(got.body, "no such endpoint") {
			t.Errorf("%s %s reaches no handler: %d %s", r.Method, path, got.status, got.body)
		}
	}
	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/v1/nothing", 404, ""},
		{"GET", "/v1/members/M1/lots", 404, ""},
		{"DELETE", "/v1/program", 405, "GET, PUT"},
		{"POST", "/healthz", 405, "GET"},
		{"GET", "/v1/cluster/join", 405, "POST"},
		{"HEAD", "/v1/stats", 200, ""},
	} {
		got := e.do(tc.method, tc.path, opKey, "")
		if got.status != tc.status || got.header.Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d %q", tc.method, tc.path, got.status, got.header.Get("Allow"), tc.status, tc.allow)
		}
	}
}
