package pgpeer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Binaries of PostgreSQL 15 on the benchmark machines.
var (
	InitDB   = "/usr/local/bin/initdb"
	Postgres = "/usr/local/bin/postgres"
)

// Server is a throwaway PostgreSQL cluster in a temp dir, on a free port on
// 127.0.0.1, with fsync and synchronous_commit on.
type Server struct {
	Dir  string
	Port int
	URL  string
	cmd  *exec.Cmd
	log  *os.File
	cred *syscall.Credential
}

// runAs returns the credential to run PostgreSQL with: it refuses to run as
// root, so as root the user "postgres" (or else "nobody") is used.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("running as root and neither user postgres nor nobody exists")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Available reports why a server cannot be started here (nil: it can).
func Available() error {
	for _, b := range []string{InitDB, Postgres} {
		if _, err := os.Stat(b); err != nil {
			return fmt.Errorf("%s: %w", b, err)
		}
	}
	_, err := runAs()
	return err
}

// Start runs initdb in a new temp dir and starts postgres on it. Extra
// settings (name=value) are passed with -c. Its log goes to DIR/postgres.log.
func Start(ctx context.Context, settings ...string) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "accrual-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, cred: cred}
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(err)
		}
	}
	if s.log, err = os.Create(filepath.Join(dir, "postgres.log")); err != nil {
		return fail(err)
	}
	data := filepath.Join(dir, "data")
	// --no-sync only makes initdb itself quick; the server below runs with fsync on.
	initdb := exec.CommandContext(ctx, InitDB, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	initdb.Stdout, initdb.Stderr = s.log, s.log
	if err := initdb.Run(); err != nil {
		return fail(fmt.Errorf("initdb: %w (log: %s)", err, s.log.Name()))
	}
	if s.Port, err = freePort(); err != nil {
		return fail(err)
	}
	args := []string{"-D", data, "-p", strconv.Itoa(s.Port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "synchronous_commit=on",
		"-c", "full_page_writes=on", "-c", "shared_buffers=512MB", "-c", "max_wal_size=4GB",
		"-c", "checkpoint_timeout=15min", "-c", "max_connections=200"}
	for _, kv := range settings {
		args = append(args, "-c", kv)
	}
	s.cmd = exec.Command(Postgres, args...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return fail(fmt.Errorf("postgres: %w", err))
	}
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	deadline := time.Now().Add(30 * time.Second)
	for {
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := pgx.Connect(cctx, s.URL)
		cancel()
		if err == nil {
			c.Close(ctx)
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fail(fmt.Errorf("postgres did not start: %w (log: %s)", err, s.log.Name()))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// PID is the postmaster's process id.
func (s *Server) PID() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// PIDs lists the postmaster and its children (backends, WAL writer,
// checkpointer, …), for CPU and memory accounting.
func (s *Server) PIDs() []int {
	pid := s.PID()
	if pid == 0 {
		return nil
	}
	out := []int{pid}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err == nil {
		for _, f := range splitFields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

func splitFields(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\n' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	return out
}

// Stop shuts the server down (fast shutdown) and removes its directory.
func (s *Server) Stop() error {
	var err error
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- s.cmd.Wait() }()
		select {
		case err = <-done:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			err = <-done
		}
		s.cmd = nil
	}
	if s.log != nil {
		s.log.Close()
	}
	if s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
	return err
}

// LogTail returns the end of the server log, for error messages.
func (s *Server) LogTail() string {
	f, err := os.Open(filepath.Join(s.Dir, "postgres.log"))
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
