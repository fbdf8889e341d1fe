package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accrual/accrual/api"
)

func TestDemoProgramIsTestdataCoalition(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "coalition.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, demoProgram) {
		t.Fatal("cmd/accrual/demo-program.yaml differs from testdata/coalition.yaml: copy it again")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// node is an `accrual serve` child process.
type node struct {
	cmd            *exec.Cmd
	http, raft, id string
	data           string
	out            *bytes.Buffer
}

func startNode(t *testing.T, id, data string, extra ...string) *node {
	t.Helper()
	n := &node{id: id, http: freeAddr(t), raft: freeAddr(t), data: data, out: &bytes.Buffer{}}
	args := append([]string{"serve", "--node-id", id, "--http-addr", n.http, "--raft-addr", n.raft, "--data", data}, extra...)
	if !slices.Contains(extra, "--join") {
		args = append(args, "--bootstrap")
	}
	n.cmd = exec.Command(os.Args[0], args...)
	n.cmd.Env = append(os.Environ(), "ACCRUAL_TEST_MAIN=1")
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = n.cmd.Process.Kill()
		_, _ = n.cmd.Process.Wait()
	})
	return n
}

func (n *node) key(t *testing.T) string {
	t.Helper()
	for i := 0; i < 100; i++ {
		if k, err := os.ReadFile(filepath.Join(n.data, "operator.key")); err == nil && len(k) > 0 {
			return string(k)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no operator key; output:\n%s", n.out)
	return ""
}

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// waitOK retries a request until it answers 200 (a node starting up).
func waitOK(t *testing.T, method, url, key, body string) map[string]any {
	t.Helper()
	for i := 0; i < 200; i++ {
		if code, out := call(t, method, url, key, body); code == 200 {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s %s never answered 200", method, url)
	return nil
}

// TestServeSingleNodeRestartSafe: `accrual serve` with defaults starts on
// the demo program, prints a working key, accepts commands, and after a
// kill -9 and restart from the same directory serves the same balances.
func TestServeSingleNodeRestartSafe(t *testing.T) {
	data := t.TempDir()
	n := startNode(t, "n1", data)
	key := n.key(t)
	base := "http://" + n.http
	out := waitOK(t, "POST", base+"/v1/purchases", key, `{"id":"p1","member":"alice","partner":"grocer","amount":4200}`)
	if out["points"].(float64) != 121 {
		t.Fatalf("purchase: %v", out)
	}
	if k := waitOK(t, "GET", base+"/v1/stats/kpis", key, ""); k["members"] != float64(1) || k["buyers"] != float64(1) {
		t.Fatalf("KPIs after one purchase: %v", k)
	}
	if m := waitOK(t, "GET", base+"/v1/members/alice?lots=true", key, ""); len(m["lots"].([]any)) != 1 {
		t.Fatalf("lots of alice: %v", m)
	}
	if code, _ := call(t, "GET", base+"/v1/members/alice", "wrong-key-wrong-key", ""); code != 401 {
		t.Fatalf("wrong key answered %d", code)
	}
	// PUT /v1/program: a new partner at the end is fine; reordering is not.
	newProg := strings.Replace(string(demoProgram), "campaigns:", "  - id: bakery\ncampaigns:", 1)
	if code, out := call(t, "PUT", base+"/v1/program", key, newProg); code != 200 {
		t.Fatalf("PUT /v1/program: %d %v", code, out)
	}
	bad := strings.Replace(string(demoProgram), "id: fuelco", "id: fuelco2", 1)
	if code, out := call(t, "PUT", base+"/v1/program", key, bad); code != 400 || !strings.Contains(fmt.Sprint(out), "partners[0].id") {
		t.Fatalf("incompatible program: %d %v", code, out)
	}
	if out := waitOK(t, "POST", base+"/v1/purchases", key, `{"id":"p2","member":"bob","partner":"bakery","amount":1000}`); out["status"] != "ok" {
		t.Fatalf("purchase at the new partner: %v", out)
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = n.cmd.Process.Wait()

	n2 := startNode(t, "n1", data)
	m := waitOK(t, "GET", "http://"+n2.http+"/v1/members/alice?consistency=linearizable", key, "")
	if m["pending"].(float64) != 121 {
		t.Fatalf("after restart: %v", m)
	}
	if out := waitOK(t, "POST", "http://"+n2.http+"/v1/purchases", key, `{"id":"p3","member":"bob","partner":"bakery","amount":1000}`); out["status"] != "ok" {
		t.Fatalf("the changed program did not survive the restart: %v", out)
	}
	if strings.Contains(n2.out.String(), "generated operator key") {
		t.Fatal("a restart generated a new key")
	}
	if strings.Contains(n.out.String()+n2.out.String(), key) {
		t.Fatal("the operator key appears in the server's output")
	}
	dup := waitOK(t, "POST", "http://"+n2.http+"/v1/purchases", key, `{"id":"p1","member":"alice","partner":"grocer","amount":4200}`)
	if dup["duplicate"] != true {
		t.Fatalf("retry after restart was applied again: %v", dup)
	}
}

// TestServeThreeNodeClusterSurvivesLeaderKill: three processes, joined by
// HTTP; kill -9 of the leader loses no acknowledged command.
func TestServeThreeNodeClusterSurvivesLeaderKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	d1 := t.TempDir()
	n1 := startNode(t, "n1", d1)
	key := n1.key(t)
	waitOK(t, "GET", "http://"+n1.http+"/v1/cluster", key, "")
	keysFile := filepath.Join(d1, "keys.yaml")
	nodes := []*node{n1}
	for _, id := range []string{"n2", "n3"} {
		n := startNode(t, id, t.TempDir(), "--join", n1.http, "--join-key", key, "--keys", keysFile)
		nodes = append(nodes, n)
	}
	for _, n := range nodes[1:] {
		waitOK(t, "GET", "http://"+n.http+"/v1/cluster", key, "")
	}
	// Wait until all three are voters.
	for i := 0; ; i++ {
		_, st := call(t, "GET", "http://"+n1.http+"/v1/cluster", key, "")
		if servers, ok := st["Servers"].([]any); ok && len(servers) == 3 {
			break
		}
		if i > 200 {
			t.Fatalf("cluster never reached 3 servers: %v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The cluster CLI: status, and a leadership transfer away from n1 and back.
	var statusOut bytes.Buffer
	if err := cmdCluster([]string{"status", "--addr", n1.http, "--key", key}, &statusOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(statusOut.String(), `"LeaderID": "n1"`) {
		t.Fatalf("accrual cluster status: no leader n1 in\n%s", statusOut.String())
	}
	leaderOf := func() string {
		_, st := call(t, "GET", "http://"+n1.http+"/v1/cluster", key, "")
		id, _ := st["LeaderID"].(string)
		return id
	}
	// A transfer is a request, not a promise (the target may lose the
	// election it starts, e.g. on a loaded machine): try up to three times.
	for try := 0; ; try++ {
		if err := cmdCluster([]string{"transfer-leadership", "--addr", n1.http, "--key", key}, io.Discard); err != nil {
			t.Fatal(err)
		}
		i := 0
		for ; i < 100 && (leaderOf() == "n1" || leaderOf() == ""); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if i < 100 {
			break
		}
		if try == 2 {
			t.Fatal("leadership never left n1")
		}
	}
	// n1 is a follower now: writes sent to it are refused with the leader's address.
	if code, out := call(t, "POST", "http://"+n1.http+"/v1/purchases", key, `{"id":"f1","member":"z","partner":"grocer","amount":1000}`); code != 421 || out["error"].(map[string]any)["leader"] == "" {
		t.Fatalf("write to a follower: %d %v", code, out)
	}
	if err := cmdCluster([]string{"remove", "--addr", n1.http, "--key", key, "--id", "n3"}, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := cmdCluster([]string{"add", "--addr", n1.http, "--key", key, "--id", "n3", "--raft-addr", nodes[2].raft, "--http-addr", nodes[2].http}, io.Discard); err != nil {
		t.Fatal(err)
	}
	leader := nodes[0]
	for _, n := range nodes {
		if n.id == leaderOf() {
			leader = n
		}
	}
	n1 = leader
	acked := 0
	for i := 0; i < 50; i++ {
		body := fmt.Sprintf(`{"id":"c%d","member":"m%d","partner":"grocer","amount":1000}`, i, i%5)
		if code, _ := call(t, "POST", "http://"+n1.http+"/v1/purchases", key, body); code == 200 {
			acked++
		}
	}
	if acked != 50 {
		t.Fatalf("only %d of 50 acknowledged before the fault", acked)
	}
	feedsEqual(t, key, nodes) // any replica serves the same change feed
	_ = n1.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = n1.cmd.Process.Wait()
	// Every acknowledged command is there on the new leader: its retry is a duplicate.
	for i := 0; i < 50; i++ {
		body := fmt.Sprintf(`{"id":"c%d","member":"m%d","partner":"grocer","amount":1000}`, i, i%5)
		var out map[string]any
		for try := 0; try < 400; try++ {
			for _, n := range nodes {
				if n == leader {
					continue
				}
				if code, o := call(t, "POST", "http://"+n.http+"/v1/purchases", key, body); code == 200 {
					out = o
					break
				}
			}
			if out != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if out == nil || out["duplicate"] != true {
			t.Fatalf("c%d after leader kill: %v", i, out)
		}
	}
	var live []*node
	for _, n := range nodes {
		if n != leader {
			live = append(live, n)
		}
	}
	feedsEqual(t, key, live)
}

// TestServeHTTPLimitFlags: the serve flags reach the API server's config,
// and the defaults cap connections without throttling `accrual bench`'s
// largest default client count from one address.
func TestServeHTTPLimitFlags(t *testing.T) {
	parse := func(args ...string) api.Config {
		t.Helper()
		var l httpLimits
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		l.register(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		var cfg api.Config
		l.apply(&cfg)
		return cfg
	}
	def := parse()
	if def.Concurrency != defaultMaxConns || def.MaxConnsPerIP != defaultMaxConnsPerIP ||
		def.HeaderTimeout != 10*time.Second || def.ReadTimeout != 30*time.Second ||
		def.WriteTimeout != 30*time.Second || def.IdleTimeout != 120*time.Second {
		t.Fatalf("defaults: %+v", def)
	}
	if def.MaxConnsPerIP < 64 || def.Concurrency < def.MaxConnsPerIP {
		t.Fatalf("per-IP cap %d below bench's 64 open-loop clients, or above the total %d", def.MaxConnsPerIP, def.Concurrency)
	}
	got := parse("--max-conns", "50", "--max-conns-per-ip", "0", "--header-timeout", "2s",
		"--read-timeout", "3s", "--write-timeout", "4s", "--idle-timeout", "5s")
	if got.Concurrency != 50 || got.MaxConnsPerIP != 0 || got.HeaderTimeout != 2*time.Second ||
		got.ReadTimeout != 3*time.Second || got.WriteTimeout != 4*time.Second || got.IdleTimeout != 5*time.Second {
		t.Fatalf("flags not applied: %+v", got)
	}
}
