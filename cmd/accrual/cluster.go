package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// cmdCluster is `accrual cluster status|add|remove|transfer-leadership`: it
// talks to a node's HTTP API with an operator key (--key or $ACCRUAL_KEY).
// Changes go to the leader: a follower's not-leader answer is followed once.
func cmdCluster(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("cluster: want status, add, remove or transfer-leadership")
	}
	op := args[0]
	fs := flag.NewFlagSet("cluster "+op, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP address of any node")
	key := fs.String("key", os.Getenv("ACCRUAL_KEY"), "operator key (default $ACCRUAL_KEY)")
	id := fs.String("id", "", "node id (add, remove)")
	raftAddr := fs.String("raft-addr", "", "the new node's Raft address (add)")
	httpAddr := fs.String("http-addr", "", "the new node's HTTP address (add)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var method, path string
	var body []byte
	switch op {
	case "status":
		method, path = "GET", "/v1/cluster"
	case "add":
		if *id == "" || *raftAddr == "" {
			return errors.New("cluster add: --id and --raft-addr are required")
		}
		method, path = "POST", "/v1/cluster/join"
		body, _ = json.Marshal(map[string]string{"id": *id, "raft_addr": *raftAddr, "http_addr": *httpAddr})
	case "remove":
		if *id == "" {
			return errors.New("cluster remove: --id is required")
		}
		method, path = "POST", "/v1/cluster/remove"
		body, _ = json.Marshal(map[string]string{"id": *id})
	case "transfer-leadership":
		method, path = "POST", "/v1/cluster/transfer-leadership"
	default:
		return fmt.Errorf("cluster: unknown operation %q", op)
	}
	target := *addr
	client := &http.Client{Timeout: 15 * time.Second}
	// Follow the leader named by a not-leader answer; while an election is
	// on (no leader known yet) wait and ask again, for up to ~10 s.
	hops := 0
	for attempt := 0; attempt < 50; attempt++ {
		url := target
		if !strings.Contains(url, "://") {
			url = "http://" + url
		}
		req, err := http.NewRequest(method, url+path, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+*key)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			var pretty bytes.Buffer
			if json.Indent(&pretty, out, "", "  ") == nil {
				out = pretty.Bytes()
			}
			fmt.Fprintln(stdout, string(out))
			return nil
		}
		var e struct {
			Error struct{ Code, Message, Leader string } `json:"error"`
		}
		_ = json.Unmarshal(out, &e)
		switch {
		case e.Error.Leader != "" && hops < 3:
			target = e.Error.Leader
			hops++
			continue
		case resp.StatusCode == http.StatusMisdirectedRequest || resp.StatusCode == http.StatusServiceUnavailable:
			time.Sleep(200 * time.Millisecond)
			continue
		}
		return fmt.Errorf("cluster %s: %d %s: %s", op, resp.StatusCode, e.Error.Code, e.Error.Message)
	}
	return fmt.Errorf("cluster %s: no leader answered; try again", op)
}
