package bench

import (
	"context"
	"encoding/json"
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
// {program} {keys} (a keys file holding the bench's operator key) and
// {join} (--bootstrap on node 1, else "--join HTTPADDR --join-key KEY").
var DefaultServeArgs = "serve --node-id {id} --http-addr {http} --raft-addr {raft} --data {data} --program {program} --keys {keys} {join}"

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
// empty) in dir: node 1 bootstraps, the others join through it one by one.
// It returns once every node answers GET /healthz and node 1 reports n
// servers.
func StartNodes(ctx context.Context, bin string, n int, template, dir, programFile, key string) (*Nodes, error) {
	if template == "" {
		template = DefaultServeArgs
	}
	keysFile := filepath.Join(dir, "keys.yaml")
	if err := os.WriteFile(keysFile, []byte(fmt.Sprintf("- {key: %q, role: operator}\n", key)), 0o600); err != nil {
		return nil, err
	}
	ns := &Nodes{Dir: dir}
	for i := 0; i < n; i++ {
		h, err := loopbackAddr()
		if err != nil {
			return nil, err
		}
		r, err := loopbackAddr()
		if err != nil {
			return nil, err
		}
		id := "n" + strconv.Itoa(i+1)
		data := filepath.Join(dir, id)
		join := "--bootstrap"
		if i > 0 {
			join = "--join " + strings.TrimPrefix(ns.URLs[0], "http://") + " --join-key " + key
		}
		repl := strings.NewReplacer("{id}", id, "{http}", h, "{raft}", r, "{data}", data,
			"{program}", programFile, "{keys}", keysFile, "{join}", join)
		args := strings.Fields(repl.Replace(template))
		cmd := exec.Command(bin, args...)
		logf, err := os.Create(filepath.Join(dir, id+".log"))
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
		ns.URLs = append(ns.URLs, "http://"+h)
		if err := waitHTTP(ctx, "http://"+h+"/healthz", ""); err != nil {
			ns.Stop()
			return nil, fmt.Errorf("node %s: %w (logs in %s)", id, err, dir)
		}
	}
	if err := waitServers(ctx, ns.URLs[0], key, n); err != nil {
		ns.Stop()
		return nil, fmt.Errorf("%w (logs in %s)", err, dir)
	}
	return ns, nil
}

// waitHTTP polls url until it answers 200, for up to 30 s.
func waitHTTP(ctx context.Context, url, key string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s did not answer 200 within 30 s", url)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitServers waits until the node at base reports n servers and a leader.
func waitServers(ctx context.Context, base, key string, n int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/cluster", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			var st struct {
				LeaderID string
				Servers  []json.RawMessage
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if len(st.Servers) == n && st.LeaderID != "" {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("the cluster did not reach %d servers within 30 s", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
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
