package api

import (
	"bufio"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/valyala/fasthttp"
)

// BackupTaker is implemented by a Backend that can back up its replicated
// state online (the Raft node's leader does); GET /v1/cluster/backup
// answers 501 otherwise.
type BackupTaker interface {
	// OpenBackup takes a consistent backup now; errors as Submit's for a
	// node that is not the leader.
	OpenBackup() (BackupStream, error)
}

// BackupStream is an opened backup: its bytes (the backup file, with its
// own checksum) and the log index of the state it holds.
type BackupStream interface {
	io.WriterTo
	io.Closer
	BackupIndex() uint64
}

// BackupIndexHeader names the log index of a backup's state in the answer.
const BackupIndexHeader = "X-Accrual-Backup-Index"

// getBackup serves GET /v1/cluster/backup, operator keys only, on the
// leader: the backup file, streamed. A failure while streaming cuts the
// body short, which the backup's checksum reveals to the client.
func (s *Server) getBackup(ctx *fasthttp.RequestCtx, p Principal) {
	if p.Role != RoleOperator {
		forbidden(ctx, "a backup needs an operator key")
		return
	}
	bt, ok := s.b.(BackupTaker)
	if !ok {
		writeError(ctx, wire.NotImplemented, "this backend has no replicated state to back up")
		return
	}
	b, err := bt.OpenBackup()
	if err != nil {
		var nl interface{ LeaderHTTPAddr() string }
		if errors.As(err, &nl) {
			writeErrorLeader(ctx, wire.NotLeader, "backups are taken on the leader", nl.LeaderHTTPAddr())
			return
		}
		writeError(ctx, wire.Unavailable, err.Error())
		return
	}
	ctx.SetContentType("application/octet-stream")
	ctx.Response.Header.Set(BackupIndexHeader, strconv.FormatUint(b.BackupIndex(), 10))
	conn := ctx.Conn()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		defer b.Close()
		// WriteTimeout bounds each write here, as on /v1/stream, not the
		// whole answer: a backup of a large ledger takes longer.
		dw := &deadlineWriter{w: w, extend: func() {
			if conn != nil {
				conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
			}
		}}
		if _, err := b.WriteTo(dw); err != nil {
			s.log.Warn("api: backup cut short", "err", err)
			return
		}
		w.Flush()
	})
}

// deadlineWriter extends the connection's write deadline before each
// write.
type deadlineWriter struct {
	w      io.Writer
	extend func()
}

func (d *deadlineWriter) Write(p []byte) (int, error) {
	d.extend()
	return d.w.Write(p)
}
