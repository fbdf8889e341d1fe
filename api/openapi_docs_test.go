package api_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/accrual/accrual/internal/shellwords"
)

// schema is the subset of JSON Schema that api/openapi.json uses.
type schema struct {
	Ref                  string             `json:"$ref"`
	Type                 string             `json:"type"`
	Properties           map[string]*schema `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties any                `json:"additionalProperties"` // false, true or absent
	Items                *schema            `json:"items"`
	Enum                 []any              `json:"enum"`
}

// check returns what in v breaks s (at path at), "" when nothing does.
func (d *openAPI) check(v any, s *schema, at string) string {
	if s.Ref != "" {
		return d.check(v, d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")], at)
	}
	if s.Enum != nil && !slices.Contains(s.Enum, v) {
		return fmt.Sprintf("%s: %v is not one of %v", at, v, s.Enum)
	}
	switch x := v.(type) {
	case map[string]any:
		if s.Type != "object" {
			return at + ": an object where the description has " + s.Type
		}
		for _, r := range s.Required {
			if _, ok := x[r]; !ok {
				return at + ": lacks required " + r
			}
		}
		for k, fv := range x {
			ps, ok := s.Properties[k]
			if !ok && s.AdditionalProperties == false {
				return at + ": has " + k + ", which the description lacks"
			}
			if ok {
				if msg := d.check(fv, ps, at+"."+k); msg != "" {
					return msg
				}
			}
		}
	case []any:
		if s.Type != "array" {
			return at + ": an array where the description has " + s.Type
		}
		for i, it := range x {
			if msg := d.check(it, s.Items, fmt.Sprintf("%s[%d]", at, i)); msg != "" {
				return msg
			}
		}
	case float64:
		if s.Type != "number" && (s.Type != "integer" || x != float64(int64(x))) {
			return fmt.Sprintf("%s: %v where the description has %s", at, x, s.Type)
		}
	case string:
		if s.Type != "string" {
			return fmt.Sprintf("%s: a string where the description has %s", at, s.Type)
		}
	case bool:
		if s.Type != "boolean" {
			return fmt.Sprintf("%s: a boolean where the description has %s", at, s.Type)
		}
	}
	return ""
}

// docExample is one curl example of docs/API.md and the answer printed
// under it (as "# " comment lines).
type docExample struct {
	line         int
	method, path string
	query        url.Values
	body, answer string
}

// docExamples reads the curl examples of the ```sh blocks of a Markdown
// file, each with the "# " lines right under it as its answer.
func docExamples(t *testing.T, md string) []docExample {
	t.Helper()
	var out []docExample
	var cmd string
	inBlock, start, answerTo := false, 0, -1
	for i, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inBlock, answerTo = line == "```sh", -1
		case !inBlock:
		case cmd != "" || strings.HasPrefix(line, "curl "):
			if cmd == "" {
				start = i + 1
			}
			cmd += line + "\n"
			if strings.Count(cmd, "'")%2 == 0 && !strings.HasSuffix(line, `\`) {
				out = append(out, parseCurl(t, start, cmd))
				cmd, answerTo = "", len(out)-1
			}
		case strings.HasPrefix(line, "#") && answerTo >= 0:
			out[answerTo].answer += strings.TrimSpace(strings.TrimPrefix(line, "#"))
		default:
			answerTo = -1
		}
	}
	return out
}

// parseCurl reads a curl command line: -X, -d/--data-binary, the $A URL.
func parseCurl(t *testing.T, line int, cmd string) docExample {
	ex := docExample{line: line, method: "GET"}
	args := shellwords.Split(cmd)
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-X":
			i++
			ex.method = args[i]
		case a == "-d" || a == "--data-binary":
			i++
			ex.body = args[i]
			if ex.method == "GET" {
				ex.method = "POST"
			}
		case a == "-H":
			i++
		case strings.HasPrefix(a, "$A/"):
			u, err := url.Parse(strings.TrimPrefix(a, "$A"))
			if err != nil {
				t.Fatalf("docs/API.md:%d: %v", line, err)
			}
			ex.path, ex.query = u.Path, u.Query()
		}
	}
	if ex.path == "" {
		t.Fatalf("docs/API.md:%d: a curl example without $A/…", line)
	}
	return ex
}

// operation finds the operation of a concrete path: the template with
// the most literal segments among those that match.
func (d *openAPI) operation(method, path string) (operation, bool) {
	segs := strings.Split(path, "/")
	var best operation
	bestLiterals, found := -1, false
	for tmpl, ops := range d.Paths {
		op, ok := ops[strings.ToLower(method)]
		ts := strings.Split(tmpl, "/")
		if !ok || len(ts) != len(segs) {
			continue
		}
		literals := 0
		for i, s := range ts {
			if strings.HasPrefix(s, "{") {
				continue
			}
			if s != segs[i] {
				literals = -1
				break
			}
			literals++
		}
		if literals > bestLiterals {
			best, bestLiterals, found = op, literals, true
		}
	}
	return best, found
}

func (d *openAPI) queryParams(op operation) []string {
	var names []string
	for _, p := range op.Parameters {
		if p.Ref != "" {
			p = d.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
		}
		if p.In == "query" {
			names = append(names, p.Name)
		}
	}
	return names
}

// checkJSON checks a JSON text of an example against the JSON schema of
// c; "" for a text that is no JSON value (a file, NDJSON) or that passes.
func (d *openAPI) checkJSON(text string, c *content, what string) (string, bool) {
	if !strings.HasPrefix(text, "{") && !strings.HasPrefix(text, "[") {
		return "", false
	}
	if c == nil {
		return what + " is JSON, but the description has no application/json schema for it", true
	}
	schema := c.Content["application/json"].Schema
	if schema == nil { // an NDJSON answer shown one line: the schema of a line
		schema = c.Content["application/x-ndjson"].Schema
	}
	if schema == nil {
		return what + " is JSON, but the description has no application/json schema for it", true
	}
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return what + ": " + err.Error(), true
	}
	return d.check(v, schema, what), true
}

// TestAPIDocExamplesMatchOpenAPI: every curl example of docs/API.md names
// an operation of the description with its query parameters, and its JSON
// body and the answer printed under it fit the operation's schemas.
func TestAPIDocExamplesMatchOpenAPI(t *testing.T) {
	doc := loadOpenAPI(t, newEnv(t, nil))
	md, err := os.ReadFile(filepath.Join("..", "docs", "API.md"))
	if err != nil {
		t.Fatal(err)
	}
	examples := docExamples(t, string(md))
	var bodies, answers int
	for _, ex := range examples {
		where := fmt.Sprintf("docs/API.md:%d: %s %s", ex.line, ex.method, ex.path)
		op, ok := doc.operation(ex.method, ex.path)
		if !ok {
			t.Errorf("%s: not in api/openapi.json", where)
			continue
		}
		params := doc.queryParams(op)
		for k := range ex.query {
			if !slices.Contains(params, k) {
				t.Errorf("%s: query parameter %q is not described (%v)", where, k, params)
			}
		}
		if msg, checked := doc.checkJSON(ex.body, op.RequestBody, "body"); msg != "" {
			t.Errorf("%s: %s", where, msg)
		} else if checked {
			bodies++
		}
		if msg, checked := doc.checkJSON(ex.answer, op.Responses["200"], "answer"); msg != "" {
			t.Errorf("%s: %s", where, msg)
		} else if checked {
			answers++
		}
	}
	// The parser must not skip silently: API.md has at least these.
	if len(examples) < 30 || bodies < 15 || answers < 6 {
		t.Errorf("read %d examples, %d JSON bodies, %d answers from docs/API.md", len(examples), bodies, answers)
	}
}
