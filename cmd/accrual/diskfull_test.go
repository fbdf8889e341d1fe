package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// adjustBatch is count `adjust +1` commands for the member "counter", ids
// prefix-<from>…, as a POST /v1/commands body, and their ids.
func adjustBatch(prefix string, from, count int) (string, []string) {
	var b strings.Builder
	ids := make([]string, count)
	b.WriteByte('[')
	for i := range count {
		if i > 0 {
			b.WriteByte(',')
		}
		ids[i] = fmt.Sprintf("%s-%d", prefix, from+i)
		fmt.Fprintf(&b, `{"type":"adjust","id":%q,"member":"counter","points":1,"reason":"disk-full test %d"}`, ids[i], from+i)
	}
	b.WriteByte(']')
	return b.String(), ids
}

// postRaw posts and returns the status and the raw body.
func postRaw(t *testing.T, url, key, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := (&http.Client{Timeout: 15 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func freeBytes(t *testing.T, dir string) uint64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return st.Bavail * uint64(st.Bsize)
}

// TestServeFullDiskRefusesWritesAndRecovers fills a real filesystem (a
// 64 MiB tmpfs; the Raft log's Pebble preallocates 35 MiB of WAL at start)
// under a running `accrual serve`: writes get 507 disk_full
// while reads answer and the process stays up; after the filesystem grows
// (remount) writes are accepted again without a restart; the ledger
// verifies and a restart holds exactly the acknowledged commands.
func TestServeFullDiskRefusesWritesAndRecovers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s); this test needs mount rights", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	const reserveMB = 16
	data := filepath.Join(mnt, "data")
	n := startNode(t, "n1", data, "--disk-reserve-mb", fmt.Sprint(reserveMB))
	key := n.key(t)
	base := "http://" + n.http
	waitOK(t, "POST", base+"/v1/adjustments", key, `{"id":"first","member":"counter","points":1}`)
	acked := 1

	// Leave a little more than the reserve free; the commands eat the rest.
	filler, err := os.Create(filepath.Join(mnt, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for i := range chunk {
		chunk[i] = byte(i) // tmpfs stores pages as they are; any content takes room
	}
	for freeBytes(t, mnt) > (reserveMB+3)<<20 {
		if _, err := filler.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	filler.Close()

	const perBatch = 2000
	var refusedBody string
	var refusedIDs []string
	deadline := time.Now().Add(20 * time.Second)
	for b := 0; refusedIDs == nil; b++ {
		if time.Now().After(deadline) {
			t.Fatalf("no 507 after %d acknowledged commands; free %d bytes; node output:\n%s", acked, freeBytes(t, mnt), n.out)
		}
		body, ids := adjustBatch("a", b*perBatch, perBatch)
		code, resp := postRaw(t, base+"/v1/commands", key, body)
		switch code {
		case 200:
			if strings.Count(resp, `"status":"ok"`) != perBatch {
				t.Fatalf("batch %d: not all ok: %.300s", b, resp)
			}
			acked += perBatch
		case 507:
			if !strings.Contains(resp, `"code":"disk_full"`) || !strings.Contains(resp, data) {
				t.Fatalf("507 body: %s", resp)
			}
			refusedBody, refusedIDs = body, ids
		default:
			t.Fatalf("batch %d: status %d: %.300s\nnode output:\n%s", b, code, resp, n.out)
		}
	}
	t.Logf("507 after %d acknowledged commands, %d bytes free", acked, freeBytes(t, mnt))

	// Still up, still reading, and saying why it refuses.
	if err := n.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the node died on a full disk: %v\n%s", err, n.out)
	}
	if code, m := call(t, "GET", base+"/v1/members/counter", key, ""); code != 200 || m["available"] != float64(acked) {
		t.Fatalf("read on a full disk: %d %v", code, m)
	}
	if code, st := call(t, "GET", base+"/v1/cluster", key, ""); code != 200 || st["Disk"].(map[string]any)["WritesRefused"] != true {
		t.Fatalf("cluster status on a full disk: %d %v", code, st)
	}
	if code, resp := postRaw(t, base+"/v1/adjustments", key, `{"id":"single","member":"counter","points":1}`); code != 507 || !strings.Contains(resp, "disk_full") {
		t.Fatalf("single command on a full disk: %d %s", code, resp)
	}

	// Space returns: the same refused commands are accepted, as new ones.
	if out, err := exec.Command("mount", "-o", "remount,size=256m", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount: %v: %s", err, out)
	}
	for i := 0; ; i++ {
		code, resp := postRaw(t, base+"/v1/commands", key, refusedBody)
		if code == 200 {
			if strings.Count(resp, `"status":"ok"`) != len(refusedIDs) || strings.Contains(resp, `"duplicate":true`) {
				t.Fatalf("refused commands after space returned: %.300s", resp)
			}
			acked += len(refusedIDs)
			break
		}
		if code != 507 || i > 100 {
			t.Fatalf("after remount: %d %.300s", code, resp)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Stop cleanly, verify the ledger, and restart: every acknowledged
	// command is there, once.
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- n.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve exited with %v:\n%s", err, n.out)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", n.out)
	}
	verify := exec.Command(os.Args[0], "verify", "--data", data)
	verify.Env = append(os.Environ(), "ACCRUAL_TEST_MAIN=1")
	if out, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(out), "verify: ok") {
		t.Fatalf("verify: %v: %s", err, out)
	}
	n2 := startNode(t, "n1", data, "--disk-reserve-mb", fmt.Sprint(reserveMB))
	base2 := "http://" + n2.http
	if m := waitOK(t, "GET", base2+"/v1/members/counter?consistency=linearizable", key, ""); m["available"] != float64(acked) {
		t.Fatalf("after restart counter has %v points, %d commands were acknowledged", m["available"], acked)
	}
	body, _ := adjustBatch("a", 0, perBatch)
	if code, resp := postRaw(t, base2+"/v1/commands", key, body); code != 200 || strings.Count(resp, `"duplicate":true`) != perBatch {
		t.Fatalf("resending the first batch after restart: %d %.300s", code, resp)
	}
}
