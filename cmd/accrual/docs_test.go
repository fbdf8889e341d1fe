package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/insight"
	"github.com/accrual/accrual/internal/shellwords"
	"github.com/accrual/accrual/raft"
	"github.com/hashicorp/go-hclog"
)

// docExample is one curl line of a ```sh block and the output shown under
// it (the "# " lines), if any.
type docExample struct {
	file, cmd, want string
}

// docExamples reads the curl examples of a Markdown file, a command
// continued with "\" or an open quote joined into one line.
func docExamples(t *testing.T, path string) []docExample {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []docExample
	inSh, cur := false, ""
	for _, line := range strings.Split(string(src), "\n") {
		switch {
		case strings.HasPrefix(line, "```"):
			inSh = line == "```sh"
			continue
		case !inSh:
			continue
		case cur != "":
			cur += "\n" + line
		case strings.HasPrefix(line, "curl "):
			cur = line
		case strings.HasPrefix(line, "# ") && len(out) > 0:
			out[len(out)-1].want += strings.TrimPrefix(line, "# ")
			continue
		default:
			continue
		}
		if strings.Count(cur, "'")%2 == 0 && !strings.HasSuffix(cur, "\\") {
			out = append(out, docExample{file: filepath.Base(path), cmd: strings.ReplaceAll(cur, "\\\n", " ")})
			cur = ""
		}
	}
	return out
}

// runCurl does what the curl line would, in dir (for @file bodies).
func runCurl(t *testing.T, words []string, dir string) (int, string) {
	t.Helper()
	method, url, body := "", "", []byte(nil)
	hdr := http.Header{}
	for i := 1; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-s" || w == "-sN":
		case w == "-X":
			i++
			method = words[i]
		case w == "-H":
			i++
			k, v, _ := strings.Cut(words[i], ": ")
			hdr.Set(k, v)
		case w == "-d" || w == "--data-binary":
			i++
			body = []byte(words[i])
			if strings.HasPrefix(words[i], "@") {
				var err error
				if body, err = os.ReadFile(filepath.Join(dir, words[i][1:])); err != nil {
					t.Fatal(err)
				}
			}
		case strings.HasPrefix(w, "http"):
			url = w
		default:
			t.Fatalf("curl option %q: not understood by this test", w)
		}
	}
	if method == "" {
		method = map[bool]string{true: "POST", false: "GET"}[body != nil]
	}
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header = hdr
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// docsNode is an in-process node (Raft, ledger, HTTP API) on program, as
// `accrual serve --program` runs one; it returns its base URL and key.
func docsNode(t *testing.T, program string, raftAddr string, bootstrap bool) (*raft.Node, string) {
	t.Helper()
	src, err := os.ReadFile(program)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := engine.ParseProgram(src)
	if err != nil {
		t.Fatal(err)
	}
	kpis := insight.NewLive(prog, insight.Options{PointValueMinor: 1}, 5*time.Second)
	id := "n" + raftAddr
	if !bootstrap {
		id = "n4" // the id docs/API.md's join example gives it (clock samples check it)
	}
	node, err := raft.Open(raft.Config{NodeID: id, RaftAddr: raftAddr, HTTPAddr: "http-" + raftAddr, DataDir: t.TempDir(),
		Bootstrap: bootstrap, Program: prog, Observer: kpis, DiskReserveBytes: -1,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Error, Output: os.Stderr})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	if !bootstrap {
		return node, ""
	}
	keys, err := api.NewKeys([]api.Key{{Key: docsKey, Role: "operator"}})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{Addr: "127.0.0.1:0", Backend: nodeBackend{n: node, kpis: kpis}, Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.ListenAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := node.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	return node, "http://" + srv.Addr()
}

const docsKey = "docs-example-key-0123456789"

// volatile are answer fields that differ from run to run (indexes, the
// date of the run).
var volatile = map[string]bool{"applied_index": true, "index": true, "state_hash": true, "lots": true, "at": true}

// sameShown: every field the docs show (but the volatile ones) is in the
// answer with that value.
func sameShown(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !volatile[k] && !sameShown(v, g[k]) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !sameShown(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return fmt.Sprint(want) == fmt.Sprint(got)
}

// TestDocsExamplesRun runs every curl example of docs/API.md, in order,
// against a node on the program API.md names (testdata/club.yaml), and
// README's against the demo program `make run` serves: each answers 2xx,
// with the output the docs show.
func TestDocsExamplesRun(t *testing.T) {
	dir := t.TempDir()
	club, _ := os.ReadFile("../../testdata/club.yaml")
	files := map[string]string{
		"new-program.yaml": strings.Replace(string(club), "\nplans:", "\n  - id: bookshop\nplans:", 1), // a partner at the end
		"commands.ndjson":  `{"type":"purchase","id":"s-1","member":"M4","partner":"cafe","amount":2000}` + "\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ doc, program string }{{"../../docs/API.md", "../../testdata/club.yaml"}, {"../../README.md", "demo-program.yaml"}} {
		_, base := docsNode(t, c.program, freeAddr(t), true)
		n4Raft := freeAddr(t)
		docsNode(t, c.program, n4Raft, false) // the node docs/API.md's join example adds
		sub := strings.NewReplacer("$K", docsKey, "$(cat data/operator.key)", docsKey, "$A", base,
			"http://127.0.0.1:8080", base, "127.0.0.1:7004", n4Raft)
		exs := docExamples(t, c.doc)
		if len(exs) < 2 {
			t.Fatalf("%s: %d curl examples found", c.doc, len(exs))
		}
		for _, ex := range exs {
			code, body := runCurl(t, shellwords.Split(sub.Replace(ex.cmd)), dir)
			if code/100 != 2 {
				t.Errorf("%s: %s\n  answered %d %s", ex.file, ex.cmd, code, body)
				continue
			}
			if ex.want == "" {
				continue
			}
			var want, got any
			if err := json.Unmarshal([]byte(ex.want), &want); err != nil {
				t.Fatalf("%s: the output shown under %s is not JSON: %v", ex.file, ex.cmd, err)
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil || !sameShown(want, got) {
				t.Errorf("%s: %s\n  shows %s\n  answers %s", ex.file, ex.cmd, ex.want, body)
			}
		}
	}
}

// TestReadmeBadProgramMessage: the README's refused program exists and
// gives the message it quotes.
func TestReadmeBadProgramMessage(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "replay", "--program", "testdata/bad.yaml")
	cmd.Dir, cmd.Env = "../..", append(os.Environ(), "ACCRUAL_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	msg := strings.TrimSpace(string(out))
	if err == nil || !strings.Contains(string(readme), "\n"+msg+"\n") {
		t.Fatalf("accrual replay --program testdata/bad.yaml: %v, %q: not what the README quotes", err, msg)
	}
}
