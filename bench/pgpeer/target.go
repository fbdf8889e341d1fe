package pgpeer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/accrual/accrual/engine"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Target applies batches to PostgreSQL: one transaction per batch, one
// apply_cmd call per command, sent as one pipelined pgx.Batch. It keeps one
// connection per concurrent client.
type Target struct {
	url   string
	conns chan *pgx.Conn
	pids  func() []int
}

// Open connects conns connections to url, (re)creates the schema and loads
// the program's rates and tiers. pids (may be nil) lists the server
// processes for the report.
func Open(ctx context.Context, url string, p *engine.Program, conns int, pids func() []int) (*Target, error) {
	conns = max(conns, 1)
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer c.Close(ctx)
	for _, st := range Statements(Schema) {
		if _, err := c.Exec(ctx, st); err != nil {
			return nil, fmt.Errorf("schema: %w\n%s", err, st)
		}
	}
	if err := loadProgram(ctx, c, p); err != nil {
		return nil, err
	}
	t := &Target{url: url, conns: make(chan *pgx.Conn, conns), pids: pids}
	for i := 0; i < conns; i++ {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Close()
			return nil, err
		}
		t.conns <- c
	}
	return t, nil
}

// rateOf is the engine's rate precedence (SPEC §5 purchase step 2).
func rateOf(p *engine.Program, pt *engine.Partner, category string) engine.Rate {
	if category != "" {
		if r, ok := pt.Categories[category]; ok {
			return r
		}
	}
	if pt.HasRate {
		return pt.Rate
	}
	if category != "" {
		if r, ok := p.Categories[category]; ok {
			return r
		}
	}
	return p.Rate
}

func loadProgram(ctx context.Context, c *pgx.Conn, p *engine.Program) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	pendingMS := p.PendingDays * 86_400_000
	if _, err := tx.Exec(ctx, `INSERT INTO settings VALUES ($1, $2, $3)`, p.CapPerPurchase, p.MinRedemption, pendingMS); err != nil {
		return err
	}
	for _, l := range p.Levels {
		if _, err := tx.Exec(ctx, `INSERT INTO tiers VALUES ($1, $2, $3)`, l.Name, l.Threshold, l.MultiplierBP); err != nil {
			return err
		}
	}
	var cats []string
	for c := range p.Categories {
		cats = append(cats, c)
	}
	for i := range p.Partners {
		for c := range p.Partners[i].Categories {
			cats = append(cats, c)
		}
	}
	slices.Sort(cats)
	cats = slices.Compact(cats)
	for i := range p.Partners {
		pt := &p.Partners[i]
		def := rateOf(p, pt, "")
		if _, err := tx.Exec(ctx, `INSERT INTO rates VALUES ($1, '', $2, $3)`, pt.ID, def.Points, def.Per); err != nil {
			return err
		}
		for _, c := range cats {
			if r := rateOf(p, pt, c); r != def {
				if _, err := tx.Exec(ctx, `INSERT INTO rates VALUES ($1, $2, $3, $4)`, pt.ID, c, r.Points, r.Per); err != nil {
					return err
				}
			}
		}
	}
	return tx.Commit(ctx)
}

// Name implements bench.Target.
func (t *Target) Name() string { return "postgres" }

// PIDs implements bench.Processes.
func (t *Target) PIDs() []int {
	if t.pids == nil {
		return nil
	}
	return t.pids()
}

const applySQL = `SELECT code, o_available, o_pending FROM apply_cmd($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

func nullable(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// Submit implements bench.Target. Deadlocks and serialization failures (two
// concurrent batches touching the same members in another order) are
// retried up to 5 times.
func (t *Target) Submit(ctx context.Context, lines [][]byte, dst []byte) ([]byte, error) {
	var c *pgx.Conn
	select {
	case c = <-t.conns:
	case <-ctx.Done():
		return dst, ctx.Err()
	}
	defer func() { t.conns <- c }()
	var (
		dec  engine.Decoder
		cmds = make([]engine.Command, len(lines))
	)
	for i, l := range lines {
		dec.Decode(l, &cmds[i])
	}
	mark := len(dst)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		dst, err = t.submitOnce(ctx, c, cmds, dst[:mark])
		var pe *pgconn.PgError
		if err == nil || !errors.As(err, &pe) || (pe.Code != "40P01" && pe.Code != "40001") {
			break
		}
	}
	if err != nil {
		return dst[:mark], err
	}
	return dst, nil
}

func (t *Target) submitOnce(ctx context.Context, c *pgx.Conn, cmds []engine.Command, dst []byte) ([]byte, error) {
	tx, err := c.Begin(ctx)
	if err != nil {
		return dst, err
	}
	defer tx.Rollback(ctx)
	b := &pgx.Batch{}
	// Lock the batch's members up front in id order, so concurrent batches
	// over the same (Zipf-hot) members wait for each other instead of
	// deadlocking; the per-command FOR UPDATE then finds the lock held.
	members := make([]string, 0, len(cmds))
	for i := range cmds {
		if !cmds[i].Invalid && len(cmds[i].Member) > 0 {
			members = append(members, string(cmds[i].Member))
		}
	}
	slices.Sort(members)
	members = slices.Compact(members)
	b.Queue(`INSERT INTO members (id) SELECT unnest($1::text[]) ORDER BY 1 ON CONFLICT (id) DO NOTHING`, members)
	b.Queue(`SELECT count(*) FROM (SELECT 1 FROM members WHERE id = ANY($1) ORDER BY id FOR UPDATE) l`, members)
	for i := range cmds {
		cmd := &cmds[i]
		if cmd.Invalid || cmd.Type == engine.TypeNone {
			continue
		}
		at := time.UnixMilli(cmd.AtMS).UTC()
		if !cmd.HasAt() {
			at = time.Now().UTC()
		}
		var amount, points any
		if cmd.Amount != 0 || cmd.Type == engine.TypePurchase || cmd.Type == engine.TypeRefund {
			amount = cmd.Amount
		}
		if cmd.Points != 0 || cmd.Type == engine.TypeRedeem || cmd.Type == engine.TypeAdjust {
			points = cmd.Points
		}
		b.Queue(applySQL, cmd.Type.String(), string(cmd.ID), int64(cmd.Hash), nullable(cmd.Member), nullable(cmd.Partner),
			nullable(cmd.Category), amount, points, nullable(cmd.Original), at)
	}
	br := tx.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return dst, err
	}
	if _, err := br.Exec(); err != nil {
		br.Close()
		return dst, err
	}
	for i := range cmds {
		cmd := &cmds[i]
		if cmd.Invalid || cmd.Type == engine.TypeNone {
			dst = append(dst, `{"status":"error","error":"invalid"}`+"\n"...)
			continue
		}
		var (
			code       string
			avail, pen *int64
		)
		if err := br.QueryRow().Scan(&code, &avail, &pen); err != nil {
			br.Close()
			return dst, err
		}
		dst = append(dst, '{')
		if cmd.HasID() {
			dst = append(dst, `"id":`...)
			dst = strconv.AppendQuote(dst, string(cmd.ID))
			dst = append(dst, ',')
		}
		if code != "ok" {
			dst = append(dst, `"status":"error","error":"`...)
			dst = append(dst, code...)
			dst = append(dst, "\"}\n"...)
			continue
		}
		dst = append(dst, `"status":"ok"`...)
		if avail != nil {
			dst = append(dst, `,"available":`...)
			dst = strconv.AppendInt(dst, *avail, 10)
			dst = append(dst, `,"pending":`...)
			dst = strconv.AppendInt(dst, *pen, 10)
		}
		dst = append(dst, "}\n"...)
	}
	if err := br.Close(); err != nil {
		return dst, err
	}
	return dst, tx.Commit(ctx)
}

// Stats is the size of what the run left in PostgreSQL.
type Stats struct {
	Members       int64 `json:"members"`
	LedgerRows    int64 `json:"ledger_rows"`
	DatabaseBytes int64 `json:"database_bytes"`
}

// Stats reads row counts and the database size.
func (t *Target) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	c := <-t.conns
	defer func() { t.conns <- c }()
	err := c.QueryRow(ctx, `SELECT (SELECT count(*) FROM members), (SELECT count(*) FROM ledger), pg_database_size(current_database())`).
		Scan(&s.Members, &s.LedgerRows, &s.DatabaseBytes)
	return s, err
}

// Close implements bench.Target.
func (t *Target) Close() error {
	for {
		select {
		case c := <-t.conns:
			c.Close(context.Background())
		default:
			return nil
		}
	}
}
