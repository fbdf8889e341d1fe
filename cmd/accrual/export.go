package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/client"
	"github.com/accrual/accrual/engine"
)

// exportRetries bounds how often one page is asked again after a retryable
// answer (an election under way, an overloaded node), 200 ms apart.
const exportRetries = 50

// cmdExport is `accrual export members`: it pages through GET /v1/members
// with an operator or readonly key (--key or $ACCRUAL_KEY) and writes one
// NDJSON line per member in exactly the form of `accrual replay --dump`'s
// member lines, so that the two compare with diff. Each page is one state
// of the cluster; pages are read one after another while writes go on.
func cmdExport(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "members" {
		return errors.New("export: want members")
	}
	fs := flag.NewFlagSet("export members", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP address of any node")
	key := fs.String("key", os.Getenv("ACCRUAL_KEY"), "operator or readonly key (default $ACCRUAL_KEY)")
	page := fs.Int("page", 1000, "members per request, 1 … 1000")
	consistency := fs.String("consistency", "linearizable", "linearizable, leader or stale (stale reads the node at --addr)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	base := *addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	opts := []client.Option{}
	if *consistency != "stale" {
		opts = append(opts, client.WithFollowLeader())
	}
	out := bufio.NewWriterSize(stdout, replayWriteBytes)
	if err := exportMembers(context.Background(), client.New(base, *key, opts...), *page, *consistency, out); err != nil {
		return err
	}
	return out.Flush()
}

// exportMembers writes every member, page after page, as dump lines.
func exportMembers(ctx context.Context, c *client.Client, limit int, consistency string, out io.Writer) error {
	var line []byte
	after := ""
	for {
		page, err := membersPage(ctx, c, after, limit, consistency)
		if err != nil {
			return fmt.Errorf("export members after %q: %w", after, err)
		}
		for i := range page.Members {
			v := memberView(&page.Members[i])
			line = engine.AppendDumpJSON(line[:0], &v)
			line = append(line, '\n')
			if _, err := out.Write(line); err != nil {
				return err
			}
		}
		if page.Next == "" {
			return nil
		}
		after = page.Next
	}
}

// membersPage asks for one page, again after a retryable answer.
func membersPage(ctx context.Context, c *client.Client, after string, limit int, consistency string) (*wire.Members, error) {
	for attempt := 0; ; attempt++ {
		page, err := c.Members(ctx, after, limit, consistency)
		var ae *client.Error
		if err == nil || attempt == exportRetries || !errors.As(err, &ae) || !(ae.Retryable() || ae.Code == wire.NotLeader) {
			return page, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// memberView is a dump line read back, for engine.AppendDumpJSON: the
// same function writes replay's lines, so the bytes cannot drift apart.
func memberView(m *wire.MemberDump) engine.MemberView {
	return engine.MemberView{Member: m.Member, Available: m.Available, Pending: m.Pending, Held: m.Held,
		Tier: m.Tier, Earned: m.Earned, Redeemed: m.Redeemed, Expired: m.Expired, Plan: m.Plan}
}
