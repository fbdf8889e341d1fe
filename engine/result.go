package engine

import "strconv"

// ErrorCode is a stable machine-readable rejection reason (SPEC §6, §9.9, §10).
type ErrorCode uint8

// Error codes, in SPEC's order of checks up to ErrAtInFuture.
const (
	OK ErrorCode = iota
	ErrInvalid
	ErrIDConflict
	ErrUnknownPartner
	ErrUnknownPlan
	ErrUnknownAction
	ErrActionLimit
	ErrReferralsDisabled
	ErrReferralInvalid
	ErrTransfersDisabled
	ErrBelowMinTransfer
	ErrUnknownOriginal
	ErrOriginalMismatch
	ErrAlreadyCancelled
	ErrHoldClosed
	ErrCaptureExceedsHold
	ErrRefundExceedsPurchase
	ErrBelowMinRedemption
	ErrInsufficientPoints
	ErrOverflow
	ErrAtInFuture
	// SPEC §10; appended, since stored records and snapshots keep codes by
	// number (so the numbers no longer follow SPEC's order of checks).
	ErrVelocityLimit
	ErrUnknownReward
	ErrOutOfStock
	errorCount
)

var errorNames = [errorCount]string{"", "invalid", "id_conflict", "unknown_partner", "unknown_plan",
	"unknown_action", "action_limit", "referrals_disabled", "referral_invalid", "transfers_disabled",
	"below_min_transfer", "unknown_original", "original_mismatch", "already_cancelled", "hold_closed",
	"capture_exceeds_hold", "refund_exceeds_purchase", "below_min_redemption", "insufficient_points",
	"overflow", "at_in_future", "velocity_limit", "unknown_reward", "out_of_stock"}

func (c ErrorCode) String() string {
	if c < errorCount {
		return errorNames[c]
	}
	return "unknown"
}

// Result shapes.
const (
	shapeMember = iota // {"id","status","points","available","pending","tier"}
	shapeTick          // {"id"?, "status"}
	shapeQuote         // {"id"?, "status","points","discount","tier"}
)

// Result is the outcome of one command (SPEC §6).
type Result struct {
	ID        []byte // echoed id; see HasID
	HasID     bool   // whether "id" is written (always for member-shaped results)
	Err       ErrorCode
	Shape     uint8
	Duplicate bool
	Tier      uint8
	Points    int64
	Available int64
	Pending   int64
	Held      int64
	Discount  int64
}

// OK reports whether the command was accepted.
func (r *Result) OK() bool { return r.Err == OK }

// AppendJSON appends the result as one JSON object (no newline).
func (e *Engine) AppendJSON(dst []byte, r *Result) []byte {
	dst = append(dst, '{')
	if r.HasID || (r.Shape == shapeMember) {
		dst = append(dst, `"id":`...)
		dst = appendJSONString(dst, r.ID)
		dst = append(dst, ',')
	}
	if r.Err != OK {
		dst = append(dst, `"status":"error","error":"`...)
		dst = append(dst, errorNames[r.Err]...)
		dst = append(dst, '"')
	} else {
		dst = append(dst, `"status":"ok"`...)
		switch r.Shape {
		case shapeMember:
			dst = append(dst, `,"points":`...)
			dst = strconv.AppendInt(dst, r.Points, 10)
			dst = append(dst, `,"available":`...)
			dst = strconv.AppendInt(dst, r.Available, 10)
			dst = append(dst, `,"pending":`...)
			dst = strconv.AppendInt(dst, r.Pending, 10)
			dst = append(dst, `,"tier":`...)
			dst = appendJSONString(dst, []byte(e.prog.Levels[r.Tier].Name))
			if r.Held != 0 {
				dst = append(dst, `,"held":`...)
				dst = strconv.AppendInt(dst, r.Held, 10)
			}
		case shapeQuote:
			dst = append(dst, `,"points":`...)
			dst = strconv.AppendInt(dst, r.Points, 10)
			dst = append(dst, `,"discount":`...)
			dst = strconv.AppendInt(dst, r.Discount, 10)
			dst = append(dst, `,"tier":`...)
			dst = appendJSONString(dst, []byte(e.prog.Levels[r.Tier].Name))
		}
	}
	if r.Duplicate {
		dst = append(dst, `,"duplicate":true`...)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a JSON string.
func AppendJSONString[S string | []byte](dst []byte, s S) []byte { return appendJSONString(dst, s) }

func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
