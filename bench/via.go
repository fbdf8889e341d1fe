package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/accrual/accrual/bench/workload"
)

// ViaConfig is one run of the side-by-side ingest comparison: the same
// generated stream into one durable `accrual serve` node through one route,
// POST /v1/stream ("stream") or a Kafka topic the node consumes
// ("kafka", serve --kafka-brokers). Both routes submit one chunk or entry
// of up to 4096 commands at a time, so one stream is set against one
// consumer.
type ViaConfig struct {
	Via      string // "stream" or "kafka"
	Workload workload.Config
	Count    int64
	// Results: Kafka also produces every message's results to a results
	// topic (--kafka-results-topic), as /v1/stream answers every line.
	Results   bool
	Bin       string // the accrual binary
	ServeArgs string // DefaultServeArgs if empty
	Key       string
	Dir       string // the node's directory (its logs stay there)
}

// ViaResult is what one route reached. The timed window starts when the
// whole stream is offered (the stream's request begins; the Kafka
// transaction holding every message commits) and ends when the last
// command is applied (the stream's last result line is read; the node's
// replicated offset passes the last message).
type ViaResult struct {
	Via          string  `json:"via"`
	Commands     int64   `json:"commands"`
	Messages     int64   `json:"messages,omitempty"` // kafka
	Results      bool    `json:"results_topic,omitempty"`
	ElapsedS     float64 `json:"elapsed_s"`
	CommandsPerS float64 `json:"commands_per_s"`
	// NodeCPUSeconds is the node process's CPU time in the window;
	// DriverCPUSeconds this process's: the HTTP client of the stream, or
	// the in-process kfake broker (and the poll of /v1/cluster).
	NodeCPUSeconds   float64 `json:"node_cpu_s"`
	DriverCPUSeconds float64 `json:"driver_cpu_s"`
	ErrorResults     int64   `json:"error_results"` // stream: result lines with "status":"error"
	// RaftEntries applied in the window (the 1 s ticks included): the
	// stream cuts a chunk at what the socket holds, Kafka at 4096 commands.
	RaftEntries uint64 `json:"raft_entries"`
}

// NodeMicrosPerCommand is the node's CPU time per command.
func (r ViaResult) NodeMicrosPerCommand() float64 {
	return r.NodeCPUSeconds * 1e6 / float64(max(r.Commands, 1))
}

// TotalMicrosPerCommand is the node's and this process's CPU per command.
func (r ViaResult) TotalMicrosPerCommand() float64 {
	return (r.NodeCPUSeconds + r.DriverCPUSeconds) * 1e6 / float64(max(r.Commands, 1))
}

// RunVia generates the stream, starts the node and times the route.
func RunVia(ctx context.Context, cfg ViaConfig) (ViaResult, error) {
	gen, err := workload.New(cfg.Workload)
	if err != nil {
		return ViaResult{}, err
	}
	pf := filepath.Join(cfg.Dir, "program.yaml")
	if err := os.WriteFile(pf, gen.Program(), 0o644); err != nil {
		return ViaResult{}, err
	}
	lines := make([][]byte, 0, cfg.Count)
	var buf []byte
	for range cfg.Count {
		off := len(buf)
		buf = gen.Next(buf)
		lines = append(lines, buf[off:len(buf):len(buf)])
	}
	switch cfg.Via {
	case "stream":
		return runViaStream(ctx, cfg, pf, buf)
	case "kafka":
		return runViaKafka(ctx, cfg, pf, lines)
	}
	return ViaResult{}, fmt.Errorf("bench: --via %q: stream or kafka", cfg.Via)
}

// mark is the CPU time of this process and the node, and the node's
// applied Raft index, at one moment.
type mark struct {
	self, node float64
	applied    uint64
}

func markNow(ctx context.Context, nodes *Nodes, key string) (mark, error) {
	st, err := readStatus(ctx, nodes.URLs[0], key)
	m := mark{self: startResources().cpu, applied: st.AppliedIndex}
	if u, err := ProcessUsage(nodes.PIDs()[0]); err == nil {
		m.node = u.CPUSeconds
	}
	return m, err
}

// markStart marks the start of the timed window.
func markStart(ctx context.Context, nodes *Nodes, key string) (mark, time.Time, error) {
	m, err := markNow(ctx, nodes, key)
	return m, time.Now(), err
}

// finish ends the timed window.
func (r *ViaResult) finish(ctx context.Context, start time.Time, from mark, nodes *Nodes, key string) error {
	r.ElapsedS = time.Since(start).Seconds()
	to, err := markNow(ctx, nodes, key)
	r.CommandsPerS = float64(r.Commands) / r.ElapsedS
	r.NodeCPUSeconds, r.DriverCPUSeconds = to.node-from.node, to.self-from.self
	r.RaftEntries = to.applied - from.applied
	return err
}

// runViaStream posts the whole stream as one POST /v1/stream and reads the
// result lines as they come.
func runViaStream(ctx context.Context, cfg ViaConfig, programFile string, ndjson []byte) (ViaResult, error) {
	nodes, err := StartNodes(ctx, cfg.Bin, 1, cfg.ServeArgs, cfg.Dir, programFile, cfg.Key)
	if err != nil {
		return ViaResult{}, err
	}
	defer nodes.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, nodes.URLs[0]+"/v1/stream", bytes.NewReader(ndjson))
	if err != nil {
		return ViaResult{}, err
	}
	req.Header.Set("Authorization", "Bearer "+cfg.Key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	res := ViaResult{Via: "stream"}
	from, start, err := markStart(ctx, nodes, cfg.Key)
	if err != nil {
		return res, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return res, fmt.Errorf("POST /v1/stream: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	if res.Commands, res.ErrorResults, err = countResults(resp.Body); err != nil {
		return res, err
	}
	if err := res.finish(ctx, start, from, nodes, cfg.Key); err != nil {
		return res, err
	}
	if want := int64(bytes.Count(ndjson, []byte("\n"))); res.Commands != want {
		return res, fmt.Errorf("POST /v1/stream: %d result lines for %d commands (logs in %s)", res.Commands, want, cfg.Dir)
	}
	return res, nil
}

// countResults counts the result lines of a stream and those that are
// errors.
func countResults(r io.Reader) (lines, errs int64, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			lines++
			if bytes.Contains(line, []byte(`"status":"error"`)) {
				errs++
			}
		}
		switch {
		case errors.Is(err, io.EOF):
			return lines, errs, nil
		case err != nil && !errors.Is(err, bufio.ErrBufferFull):
			return lines, errs, err
		}
	}
}

// Line is the run's one-line summary.
func (r ViaResult) Line() string {
	via := r.Via
	if r.Results {
		via += " (results produced)"
	}
	return fmt.Sprintf("via %s: %d commands in %.2f s: %.0f cmd/s; CPU µs/cmd node %.2f, node + driver %.2f; %d Raft entries; %d error results",
		via, r.Commands, r.ElapsedS, r.CommandsPerS, r.NodeMicrosPerCommand(), r.TotalMicrosPerCommand(), r.RaftEntries, r.ErrorResults)
}

// WriteViaJSON writes the run and the machine as JSON to file.
func WriteViaJSON(file string, r ViaResult) error {
	b, _ := json.MarshalIndent(struct {
		Machine Machine   `json:"machine"`
		Via     ViaResult `json:"via"`
	}{DescribeMachine(), r}, "", "  ")
	return os.WriteFile(file, append(b, '\n'), 0o644)
}
