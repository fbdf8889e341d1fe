package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/accrual/accrual/raft"
)

// cmdBackup is `accrual backup`: it asks the leader (GET
// /v1/cluster/backup, operator key from --key or $ACCRUAL_KEY) for an
// online backup, writes it next to --out, checks its checksum, and only
// then renames it to --out: a backup file that exists is a whole one.
func cmdBackup(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP address of any node (a follower names the leader, which is asked then)")
	key := fs.String("key", os.Getenv("ACCRUAL_KEY"), "operator key (default $ACCRUAL_KEY)")
	out := fs.String("out", "", "the backup file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("backup: --out is required")
	}
	tmp := *out + ".partial"
	err := downloadBackup(httpURL(*addr), *key, tmp)
	var info raft.BackupInfo
	if err == nil {
		info, err = raft.CheckBackup(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup: %s: the cluster's state at log index %d (term %d), checksum verified\n", *out, info.Index, info.Term)
	return nil
}

// downloadBackup writes the leader's backup into path, following one
// not-leader answer to the leader it names.
func downloadBackup(base, key, path string) error {
	client := &http.Client{Timeout: 30 * time.Minute}
	for try := 0; ; try++ {
		req, err := http.NewRequest("GET", base+"/v1/cluster/backup", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusOK {
			return saveBody(resp.Body, path)
		}
		var e struct {
			Error struct{ Code, Message, Leader string }
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		json.Unmarshal(body, &e)
		if resp.StatusCode == http.StatusMisdirectedRequest && e.Error.Leader != "" && try == 0 {
			base = httpURL(e.Error.Leader)
			continue
		}
		return fmt.Errorf("%s answered %d: %s", base, resp.StatusCode, body)
	}
}

// saveBody writes body into path and syncs it.
func saveBody(body io.ReadCloser, path string) error {
	defer body.Close()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, body)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// cmdRestore is `accrual restore`: it checks a backup's checksum and makes
// a new data directory of it, for a node that starts a new cluster with
// the backup's state at the backup's index (others join it as usual).
func cmdRestore(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	in := fs.String("in", "", "the backup file")
	dataDir := fs.String("data", "", "the data directory to make (must be empty or absent)")
	nodeID := fs.String("node-id", "node1", "the id the node will be served with (serve --node-id)")
	raftAddr := fs.String("raft-addr", "127.0.0.1:7000", "the Raft address the node will be served with (serve --raft-addr)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *dataDir == "" {
		return errors.New("restore: --in and --data are required")
	}
	if _, err := raft.CheckBackup(*in); err != nil {
		return fmt.Errorf("restore: %w", err) // before the directory is made
	}
	if err := requireEmptyDir(*dataDir); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	r, err := raft.RestoreDataDir(*dataDir, raft.SeedNode{ID: *nodeID, RaftAddr: *raftAddr}, *in)
	if err != nil {
		os.RemoveAll(*dataDir) // empty or absent before: only this restore's files go
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.WriteFile(filepath.Join(*dataDir, "program.yaml"), r.Program, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restore: %s holds the state at log index %d; start it with: accrual serve --data %s --node-id %s --raft-addr %s\n",
		*dataDir, r.Index, *dataDir, *nodeID, *raftAddr)
	return nil
}
