package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
	"github.com/valyala/fasthttp"
)

// readQuery is the parsed query string of the GET endpoints. Unknown or
// repeated parameters are an error, as unknown command fields are.
type readQuery struct {
	consistency string
	cursor      string
	limit       int
	atMS        int64
	fromMS      int64
	toMS        int64
	has         uint8
	lots        bool
	after       string // a member id
}

const (
	qConsistency uint8 = 1 << iota
	qCursor
	qLimit
	qAt
	qFrom
	qTo
	qLots
	qAfter
)

const (
	defaultLimit = 100
	maxLimit     = 1000
	maxCursor    = 256
)

func parseTimeParam(v []byte) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		if ms, err2 := strconv.ParseInt(string(v), 10, 64); err2 == nil && ms >= 0 {
			return ms, nil // milliseconds since the epoch are accepted too
		}
		return 0, fmt.Errorf("%q is not an RFC 3339 time", v)
	}
	return t.UnixMilli(), nil
}

// queryBits names the q* bit of each query parameter.
var queryBits = map[string]uint8{"consistency": qConsistency, "cursor": qCursor, "limit": qLimit,
	"at": qAt, "from": qFrom, "to": qTo, "lots": qLots, "after": qAfter}

// parseReadQuery parses the parameters allowed (a bit set of q*).
func parseReadQuery(a *fasthttp.Args, allowed uint8) (readQuery, error) {
	q := readQuery{consistency: "linearizable", limit: defaultLimit}
	var err error
	for k, v := range a.All() {
		if err != nil {
			break
		}
		bit := queryBits[string(k)]
		if bit == 0 || allowed&bit == 0 {
			err = fmt.Errorf("unknown query parameter %q", k)
			continue
		}
		if q.has&bit != 0 {
			err = fmt.Errorf("query parameter %q repeated", k)
			continue
		}
		q.has |= bit
		switch bit {
		case qConsistency:
			switch string(v) {
			case "linearizable", "leader", "stale":
				q.consistency = string(v)
			default:
				err = fmt.Errorf("consistency must be linearizable, leader or stale")
			}
		case qCursor:
			if len(v) > maxCursor {
				err = errors.New("cursor too long")
				continue
			}
			for _, c := range v {
				if c < 0x21 || c > 0x7E {
					err = errors.New("cursor must be printable ASCII")
					continue
				}
			}
			q.cursor = string(v)
		case qLimit:
			n, e := strconv.Atoi(string(v))
			if e != nil || n < 1 || n > maxLimit {
				err = fmt.Errorf("limit must be an integer 1 … %d", maxLimit)
				continue
			}
			q.limit = n
		case qAt:
			q.atMS, err = parseTimeParam(v)
		case qFrom:
			q.fromMS, err = parseTimeParam(v)
		case qTo:
			q.toMS, err = parseTimeParam(v)
		case qAfter:
			if !validMember(v) {
				err = errors.New("after must be a member id")
			}
			q.after = string(v)
		case qLots:
			switch string(v) {
			case "true", "1":
				q.lots = true
			case "false", "0":
			default:
				err = errors.New("lots must be true or false")
			}
		}
	}
	if err == nil && q.has&(qFrom|qTo) == qFrom|qTo && q.fromMS > q.toMS {
		err = errors.New("from must not be after to")
	}
	return q, err
}

func (s *Server) query(ctx *fasthttp.RequestCtx, allowed uint8) (readQuery, bool) {
	q, err := parseReadQuery(ctx.QueryArgs(), allowed)
	if err != nil {
		writeError(ctx, wire.Invalid, err.Error())
		return q, false
	}
	return q, true
}

func (s *Server) writeJSON(ctx *fasthttp.RequestCtx, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.log.Error("api: encoding a response", "err", err.Error())
		writeCode(ctx, wire.Internal)
		return
	}
	ctx.SetContentType("application/json")
	ctx.SetBody(b)
}

func groupLots(lots []engine.LotView) []wire.MemberLots {
	out := []wire.MemberLots{}
	idx := map[string]int{}
	for _, l := range lots {
		key := "never"
		if l.ExpiresAtMS != 0 {
			key = time.UnixMilli(l.ExpiresAtMS).UTC().Format("2006-01")
		}
		i, ok := idx[key]
		if !ok {
			i = len(out)
			idx[key] = i
			out = append(out, wire.MemberLots{Expires: key})
		}
		if l.Pending {
			out[i].Pending += l.Points
		} else {
			out[i].Available += l.Points
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if (out[a].Expires == "never") != (out[b].Expires == "never") {
			return out[b].Expires == "never"
		}
		return out[a].Expires < out[b].Expires
	})
	return out
}

// LotsSource is implemented by a Backend whose member views carry no lots
// (the Raft node publishes views without them, to keep the apply path
// cheap): GET /v1/members/{id}?lots=true then asks for them separately.
type LotsSource interface {
	MemberLots(name string) []engine.LotView
}

func (s *Server) getMember(ctx *fasthttp.RequestCtx, name string) {
	q, ok := s.query(ctx, qConsistency|qLots)
	if !ok {
		return
	}
	v, applied, found, err := s.b.Member(name, q.consistency)
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	if !found {
		writeError(ctx, wire.NotFound, "no such member")
		return
	}
	r := wire.Member{Member: v.Member, Available: v.Available, Pending: v.Pending, Held: v.Held,
		Tier: v.Tier, Perks: []string{}, Plan: v.Plan, Earned: v.Earned, Redeemed: v.Redeemed, Expired: v.Expired,
		AppliedIndex: applied, Consistency: q.consistency}
	if r.Member == "" {
		r.Member = name
	}
	if q.lots {
		lots := v.Lots
		if ml, ok := s.b.(LotsSource); ok {
			lots = ml.MemberLots(name)
		}
		r.Lots = groupLots(lots)
	}
	if p := s.b.Program(); p != nil {
		for _, l := range p.Levels {
			if l.Name == v.Tier {
				r.DiscountBP = l.DiscountBP
				if l.Perks != nil {
					r.Perks = l.Perks
				}
				break
			}
		}
	}
	s.writeJSON(ctx, r)
}

// getMembers is GET /v1/members: a page of all members, an export (so
// not for partner keys, which read members one at a time).
func (s *Server) getMembers(ctx *fasthttp.RequestCtx, p Principal) {
	if p.Role == RolePartner {
		forbidden(ctx, "the member list needs an operator or readonly key")
		return
	}
	q, ok := s.query(ctx, qConsistency|qLimit|qAfter)
	if !ok {
		return
	}
	page, err := s.b.Members(q.after, q.limit, q.consistency)
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	if page.Members == nil {
		page.Members = []wire.MemberDump{}
	}
	page.Consistency = q.consistency
	s.writeJSON(ctx, page)
}

func (s *Server) getStatement(ctx *fasthttp.RequestCtx, p Principal, member string) {
	q, ok := s.query(ctx, qCursor|qLimit)
	if !ok {
		return
	}
	v, err := s.b.Statement(member, q.cursor, q.limit)
	if err == nil && p.Role == RolePartner {
		v, err = s.partnerStatement(p.Partner, member, v, q.limit)
	}
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	s.writeJSON(ctx, v)
}

// partnerPagesMax bounds how many ledger pages one partner statement
// request reads to find the partner's own entries.
const partnerPagesMax = 16

// partnerStatement keeps of a statement page only the partner's own
// entries: those on its accounts (partner:<p>:issued, partner:<p>:redeemed),
// which its purchases, refunds, redemptions and captures write. Another
// partner's entries, and entries that touch no partner (maturing, expiry,
// adjustments, holds), are the operator's view, not a partner's: a page may
// so hold fewer than limit entries; `next` goes on until it is "". A page
// with none of its entries reads the next page, up to partnerPagesMax.
func (s *Server) partnerStatement(partner, member string, v wire.Statement, limit int) (wire.Statement, error) {
	for pages := 1; ; pages++ {
		v.Entries = ownEntries(v.Entries, partner)
		if len(v.Entries) > 0 || v.Next == "" || pages == partnerPagesMax {
			return v, nil
		}
		var err error
		if v, err = s.b.Statement(member, v.Next, limit); err != nil {
			return v, err
		}
	}
}

// ownEntries filters es in place to the entries on the partner's accounts.
func ownEntries(es []wire.Entry, partner string) []wire.Entry {
	prefix := "partner:" + partner + ":"
	out := es[:0]
	for _, e := range es {
		if strings.HasPrefix(e.Debit, prefix) || strings.HasPrefix(e.Credit, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func (s *Server) getBalance(ctx *fasthttp.RequestCtx, member string) {
	q, ok := s.query(ctx, qAt)
	if !ok {
		return
	}
	at := q.atMS
	if q.has&qAt == 0 {
		at = s.nowMS()
	}
	v, err := s.b.BalanceAt(member, at)
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	s.writeJSON(ctx, v)
}

func (s *Server) getCommand(ctx *fasthttp.RequestCtx, id string) {
	if _, ok := s.query(ctx, 0); !ok {
		return
	}
	v, err := s.b.CommandEntries(id)
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	s.writeJSON(ctx, v)
}

// getSettlement: from defaults to the start of the current UTC month, to to now.
func (s *Server) getSettlement(ctx *fasthttp.RequestCtx, partner string) {
	q, ok := s.query(ctx, qFrom|qTo)
	if !ok {
		return
	}
	now := time.UnixMilli(s.nowMS()).UTC()
	if q.has&qFrom == 0 {
		q.fromMS = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	if q.has&qTo == 0 {
		q.toMS = now.UnixMilli()
	}
	if q.fromMS > q.toMS {
		writeError(ctx, wire.Invalid, "from must not be after to")
		return
	}
	if p := s.b.Program(); p != nil && p.PartnerIndex(partner) < 0 {
		writeError(ctx, wire.NotFound, "no such partner")
		return
	}
	v, err := s.b.Settlement(partner, q.fromMS, q.toMS)
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	s.writeJSON(ctx, v)
}

// getProgram answers the program document as it was loaded (YAML or JSON).
func (s *Server) getProgram(ctx *fasthttp.RequestCtx) {
	if _, ok := s.query(ctx, 0); !ok {
		return
	}
	p := s.b.Program()
	if p == nil {
		writeError(ctx, wire.Unavailable, "no program loaded")
		return
	}
	src := p.Source
	i := 0
	for i < len(src) && isWS(src[i]) {
		i++
	}
	if i < len(src) && src[i] == '{' {
		ctx.SetContentType("application/json")
	} else {
		ctx.SetContentType("application/yaml")
	}
	ctx.SetBody(src)
}
