package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/accrual/accrual/api/wire"
)

// Change is one line of the change feed (GET /v1/changes).
type Change = wire.Change

// ChangesQuery selects a read of the change feed.
type ChangesQuery struct {
	// After is the cursor: the Seq of the last change received (0: from
	// the first entry).
	After uint64
	// Limit ends the read after this many changes (0: no limit).
	Limit int
	// Follow keeps the read open for changes applied later; without it
	// the read ends at the ledger's end.
	Follow bool
}

// Changes reads the change feed from q.After and calls fn with each change
// in seq order (keep-alive lines are skipped). It returns when the feed
// ends (q.Limit reached, or the ledger's end without q.Follow), ctx ends,
// fn returns an error, or the connection breaks: resume with After = the
// last Seq fn saw, on this replica or any other (cursors are the same on
// every replica). An error line from the server returns an *Error.
func (c *Client) Changes(ctx context.Context, q ChangesQuery, fn func(*Change) error) error {
	v := url.Values{"after": {strconv.FormatUint(q.After, 10)}, "follow": {strconv.FormatBool(q.Follow)}}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/changes?"+v.Encode(), nil, "")
	if err != nil {
		return err
	}
	hc := c.noRedirect()
	hc.Timeout = 0 // a followed feed stays open
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return parseError(resp, data)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var ch Change
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue // a keep-alive
		}
		if bytes.HasPrefix(line, []byte(`{"error":`)) {
			var doc wire.ErrorAnswer
			if json.Unmarshal(line, &doc) == nil && doc.Error.Code != "" {
				return &Error{Code: doc.Error.Code, Message: doc.Error.Message}
			}
		}
		ch = Change{Balances: ch.Balances[:0]}
		if err := json.Unmarshal(line, &ch); err != nil {
			return fmt.Errorf("accrual: decoding a change line: %w", err)
		}
		if err := fn(&ch); err != nil {
			return err
		}
	}
	return sc.Err()
}
