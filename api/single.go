package api

import (
	"bytes"
	"context"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/engine"
	"github.com/valyala/fasthttp"
)

// The single-command routes: POST /v1/<convenience>, the {id} actions and
// POST /v1/quote. The body is one command without `type` (the route sets
// it, and `original` for an {id} route); the answer is its result, or an
// error whose message names the field and the rule a refused command broke.

// singleLine builds `{"type":"<t>",["original":"<o>",] …rest of body}`;
// withType false leaves `type` to the body.
func singleLine(dst []byte, body []byte, t engine.CommandType, withType bool, original []byte) ([]byte, bool) {
	i := 0
	for i < len(body) && isWS(body[i]) {
		i++
	}
	if i == len(body) || body[i] != '{' {
		return dst, false
	}
	i++
	dst = append(dst, '{')
	sep := ""
	if withType {
		dst = append(dst, `"type":`...)
		dst = appendJSONString(dst, t.String())
		sep = ","
	}
	if original != nil {
		dst = append(dst, sep+`"original":`...)
		dst = appendJSONString(dst, original)
		sep = ","
	}
	j := i
	for j < len(body) && isWS(body[j]) {
		j++
	}
	if j == len(body) || body[j] != '}' {
		dst = append(dst, sep...)
	}
	return append(dst, body[i:]...), true
}

// decodeSingle decodes the body as one command of type t into b (the
// command in b.cmds[0], its line in b.lines). A body that names `type` or
// `original` itself is taken as sent, and must agree with the route. It
// answers 400 itself and returns false when the body is no object or
// contradicts the route.
func (s *Server) decodeSingle(ctx *fasthttp.RequestCtx, b *batch, t engine.CommandType, original []byte) bool {
	withType, withOriginal := true, original
	for {
		var ok bool
		b.resetCommands()
		b.lines, ok = singleLine(b.lines[:0], b.body, t, withType, withOriginal)
		if !ok {
			writeError(ctx, wire.Invalid, "the body must be one JSON object")
			return false
		}
		b.add(b.lines, s.clock())
		c := &b.cmds[0]
		switch {
		case c.RepeatedField() == "type" && withType:
			withType = false
			continue
		case c.RepeatedField() == "original" && withOriginal != nil:
			withOriginal = nil
			continue
		}
		if !c.Invalid && (c.Type != t || (original != nil && !bytes.Equal(c.Original, original))) {
			writeError(ctx, wire.Invalid, "the body's type or original contradicts the route")
			return false
		}
		return true
	}
}

var codeMessages = map[string]string{
	"invalid":                 "the command is malformed, misses a field or has a value out of range",
	"id_conflict":             "the id was used before with a different payload",
	"unknown_partner":         "the partner is not in the program",
	"unknown_plan":            "the plan is not in the program",
	"unknown_action":          "the action is not in the program",
	"action_limit":            "the member reached this action's monthly limit",
	"referrals_disabled":      "the program has no referrals",
	"referral_invalid":        "the referrer must exist and the referred member must not",
	"transfers_disabled":      "the program has no transfers",
	"below_min_transfer":      "below the program's minimum transfer",
	"unknown_original":        "the original names no accepted command of the right type",
	"original_mismatch":       "the original's member or partner differs",
	"already_cancelled":       "the redemption was cancelled before",
	"hold_closed":             "the hold was captured, released or timed out",
	"capture_exceeds_hold":    "the capture exceeds the held points",
	"refund_exceeds_purchase": "the refunds exceed the purchase amount",
	"below_min_redemption":    "below the program's minimum redemption",
	"insufficient_points":     "the member's available points are not enough",
	"overflow":                "a balance or counter would exceed ±2^62",
	"at_in_future":            "`at` is more than 5 minutes ahead of the server clock",
	"velocity_limit":          "the member reached the program's purchases per day",
	"unknown_reward":          "the reward is not in the program's catalogue",
	"out_of_stock":            "the reward's stock is claimed",
}

// writeResult answers a single command's result: 200 with the result when
// accepted, else {"error":{code,message},"result":{…}} with the code's
// status: 400 (invalid), 409 (id_conflict) or 422 (a business rejection).
// The message is problem when set, else the code's sentence.
func writeResult(ctx *fasthttp.RequestCtx, line []byte, dst []byte, problem string) []byte {
	code := resultCodeName(line)
	ctx.SetContentType("application/json")
	if code == nil {
		ctx.SetBody(line)
		return dst
	}
	c := wire.ErrorCode(code)
	ctx.SetStatusCode(c.Status())
	msg := problem
	if msg == "" {
		msg = codeMessages[string(code)]
	}
	if msg == "" {
		msg = string(code)
	}
	dst = appendErrorJSON(dst[:0], c, msg, "")
	dst = append(dst[:len(dst)-1], `,"result":`...) // the result joins the error's object
	dst = append(dst, line...)
	dst = append(dst, '}')
	ctx.SetBody(dst)
	return dst
}

// problem is the message of a single command refused as invalid: the
// field and the rule it broke ("" for any other outcome).
func (b *batch) problem() string {
	if b.st[0] != stInvalid {
		return ""
	}
	return b.cmds[0].Problem(b.lines)
}

// POST /v1/<conveniences>: one command, its type (and original) from the route.
func (s *Server) postSingle(ctx *fasthttp.RequestCtx, p Principal, t engine.CommandType, original []byte) {
	b := s.getBatch()
	defer s.putBatch(b)
	if !s.readBody(ctx, b, 1<<20) || !s.decodeSingle(ctx, b, t, original) {
		return
	}
	if b.st[0] == stQuote {
		writeError(ctx, wire.Invalid, "use POST /v1/quote")
		return
	}
	if b.authorize(p, s.b) >= 0 {
		forbidden(ctx, "a partner key may only send purchase, refund, redeem and hold commands naming its own partner")
		return
	}
	cctx, cancel := context.WithTimeout(context.Background(), s.cfg.SubmitTimeout)
	err := s.run(cctx, b)
	cancel()
	if err != nil {
		s.backendError(ctx, err)
		return
	}
	b.out = writeResult(ctx, b.res[0], b.out, b.problem())
}

// POST /v1/quote: read-only, answered by Backend.Quote, never in the log.
func (s *Server) postQuote(ctx *fasthttp.RequestCtx, p Principal) {
	b := s.getBatch()
	defer s.putBatch(b)
	if !s.readBody(ctx, b, 1<<20) || !s.decodeSingle(ctx, b, engine.TypeQuote, nil) {
		return
	}
	if b.authorize(p, s.b) >= 0 {
		forbidden(ctx, "a partner key may only quote for its own partner")
		return
	}
	if err := s.run(context.Background(), b); err != nil {
		s.backendError(ctx, err)
		return
	}
	b.out = writeResult(ctx, b.res[0], b.out, b.problem())
}
