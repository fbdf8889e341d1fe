package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultServeArgs is the argument template of one `accrual serve` node for
// the node and cluster targets. Placeholders: {id} {http} {raft} {data}
// {program} {key} {peers} (comma-separated id=raftaddr of all nodes) and
// {bootstrap} (true on node 1). The server is being finished elsewhere:
// adjust with --serve-args once its flags are settled.
var DefaultServeArgs = "serve --id {id} --http {http} --raft {raft} --data {data} --program {program} --key {key} --peers {peers} --bootstrap={bootstrap}"

// Nodes is a set of local `accrual serve` processes on loopback.
type Nodes struct {
	URLs  []string
	Dir   string
	procs []*exec.Cmd
}

func loopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// StartNodes starts n nodes of bin with the template (DefaultServeArgs if
// empty) in dir and waits until every node answers GET /v1/healthz.
func StartNodes(ctx context.Context, bin string, n int, template, dir, programFile, key string) (*Nodes, error) {
	if template == "" {
		template = DefaultServeArgs
	}
	type node struct{ id, http, raft, data string }
	nodes := make([]node, n)
	var peers []string
	for i := range nodes {
		h, err := loopbackAddr()
		if err != nil {
			return nil, err
		}
		r, err := loopbackAddr()
		if err != nil {
			return nil, err
		}
		id := "n" + strconv.Itoa(i+1)
		nodes[i] = node{id: id, http: h, raft: r, data: filepath.Join(dir, id)}
		peers = append(peers, id+"="+r)
	}
	ns := &Nodes{Dir: dir}
	for i, nd := range nodes {
		if err := os.MkdirAll(nd.data, 0o755); err != nil {
			return nil, err
		}
		repl := strings.NewReplacer("{id}", nd.id, "{http}", nd.http, "{raft}", nd.raft, "{data}", nd.data,
			"{program}", programFile, "{key}", key, "{peers}", strings.Join(peers, ","), "{bootstrap}", strconv.FormatBool(i == 0))
		args := strings.Fields(repl.Replace(template))
		cmd := exec.Command(bin, args...)
		logf, err := os.Create(filepath.Join(dir, nd.id+".log"))
		if err != nil {
			ns.Stop()
			return nil, err
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			ns.Stop()
			return nil, fmt.Errorf("start %s %s: %w", bin, strings.Join(args, " "), err)
		}
		ns.procs = append(ns.procs, cmd)
		ns.URLs = append(ns.URLs, "http://"+nd.http)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, u := range ns.URLs {
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u+"/v1/healthz", nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				ns.Stop()
				return nil, fmt.Errorf("node %s not healthy after 30 s (logs in %s)", u, dir)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return ns, nil
}

// PIDs lists the node processes.
func (ns *Nodes) PIDs() []int {
	var out []int
	for _, c := range ns.procs {
		if c.Process != nil {
			out = append(out, c.Process.Pid)
		}
	}
	return out
}

// Stop terminates the nodes (SIGTERM, then SIGKILL after 10 s).
func (ns *Nodes) Stop() {
	for _, c := range ns.procs {
		if c.Process != nil {
			_ = c.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, c := range ns.procs {
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
	ns.procs = nil
}
