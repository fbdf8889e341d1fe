package wire

import (
	"encoding/json"
	"net/http"
)

// ErrorCode is the stable code of an error answer,
// {"error":{"code":…,"message":…}} (docs/API.md, Errors). Besides the
// codes below, a rejected single command answers with its SPEC code
// ("insufficient_points", …): "invalid" and "id_conflict" are in the table,
// every other one answers 422.
type ErrorCode string

// The API's own error codes.
const (
	Invalid             ErrorCode = "invalid"
	InvalidProgram      ErrorCode = "invalid_program"
	Unauthorized        ErrorCode = "unauthorized"
	Forbidden           ErrorCode = "forbidden"
	NotFound            ErrorCode = "not_found"
	MethodNotAllowed    ErrorCode = "method_not_allowed"
	IDConflict          ErrorCode = "id_conflict"
	BodyTooLarge        ErrorCode = "body_too_large"
	BatchTooLarge       ErrorCode = "batch_too_large"
	HeadersTooLarge     ErrorCode = "headers_too_large"
	NotLeader           ErrorCode = "not_leader"
	NoLeader            ErrorCode = "no_leader"
	Overloaded          ErrorCode = "overloaded"
	Unavailable         ErrorCode = "unavailable"
	ClusterChangeFailed ErrorCode = "cluster_change_failed"
	Timeout             ErrorCode = "timeout"
	DiskFull            ErrorCode = "disk_full"
	ClockUnsynchronized ErrorCode = "clock_unsynchronized"
	NotImplemented      ErrorCode = "not_implemented"
	CursorBeyondEnd     ErrorCode = "cursor_beyond_end"
	Internal            ErrorCode = "internal"
)

// Statuses some codes answer with besides their own (ErrorCode.Status).
const (
	// StatusNotLeaderRedirect is not_leader's status for a read that
	// needs the leader: a redirect to the same URL on the leader.
	StatusNotLeaderRedirect = http.StatusTemporaryRedirect
	// StatusTimeoutReading is timeout's status when the request itself
	// did not arrive in time (the outcome is then known: nothing ran).
	StatusTimeoutReading = http.StatusRequestTimeout
)

// errorSpec is one row of the table.
type errorSpec struct {
	code      ErrorCode
	status    int
	retryable bool // resending the same request (same ids) may succeed
	sentence  string
}

var errorTable = [...]errorSpec{
	{Invalid, http.StatusBadRequest, false, "invalid request"},
	{InvalidProgram, http.StatusBadRequest, false, "invalid program"},
	{Unauthorized, http.StatusUnauthorized, false, "unknown API key"},
	{Forbidden, http.StatusForbidden, false, "the key's role may not do this"},
	{NotFound, http.StatusNotFound, false, "not found"},
	{MethodNotAllowed, http.StatusMethodNotAllowed, false, "method not allowed"},
	{IDConflict, http.StatusConflict, false, "the id was used before with a different payload"},
	{BodyTooLarge, http.StatusRequestEntityTooLarge, false, "the request body is too large"},
	{BatchTooLarge, http.StatusRequestEntityTooLarge, false, "too many commands in one request"},
	{HeadersTooLarge, http.StatusRequestHeaderFieldsTooLarge, false, "the request line and headers exceed 16 KiB"},
	{NotLeader, http.StatusMisdirectedRequest, true, "this node is not the leader"},
	{NoLeader, http.StatusServiceUnavailable, true, "no leader elected; retry"},
	{Overloaded, http.StatusServiceUnavailable, true, "overloaded; retry later with the same ids"},
	{Unavailable, http.StatusServiceUnavailable, true, "unavailable; retry with the same ids"},
	{ClusterChangeFailed, http.StatusServiceUnavailable, false, "the cluster change failed"},
	{Timeout, http.StatusGatewayTimeout, true, "timed out; the outcome is unknown, retry with the same ids"},
	{DiskFull, http.StatusInsufficientStorage, false, "disk full: writes are refused until disk space is freed; reads still work; retry with the same ids"},
	{ClockUnsynchronized, http.StatusServiceUnavailable, true, "the leader's clock disagrees with the cluster's, so it stamps no time: send `at` yourself, or retry the same request (same ids) once the clocks agree"},
	{NotImplemented, http.StatusNotImplemented, false, "not implemented by this backend"},
	{CursorBeyondEnd, http.StatusRequestedRangeNotSatisfiable, false, "the cursor is beyond the last entry of this replica's ledger"},
	{Internal, http.StatusInternalServerError, false, "internal error"},
}

func (c ErrorCode) spec() (errorSpec, bool) {
	for _, s := range errorTable {
		if s.code == c {
			return s, true
		}
	}
	return errorSpec{}, false
}

// Status is the HTTP status the code answers with (but see
// StatusNotLeaderRedirect and StatusTimeoutReading); 422 for any other
// code, the SPEC rejections.
func (c ErrorCode) Status() int {
	if s, ok := c.spec(); ok {
		return s.status
	}
	return http.StatusUnprocessableEntity
}

// Sentence is the code's default message; "" for a SPEC rejection code.
func (c ErrorCode) Sentence() string {
	s, _ := c.spec()
	return s.sentence
}

// Retryable reports whether resending the same request (same ids) may
// succeed after an answer with this code.
func (c ErrorCode) Retryable() bool {
	s, _ := c.spec()
	return s.retryable
}

// Known reports whether c is one of the API's own codes above (not a SPEC
// rejection code).
func (c ErrorCode) Known() bool {
	_, ok := c.spec()
	return ok
}

// ErrorCodes returns the API's own codes, in the table's order.
func ErrorCodes() []ErrorCode {
	out := make([]ErrorCode, len(errorTable))
	for i, s := range errorTable {
		out[i] = s.code
	}
	return out
}

// ErrorAnswer is the body of every error answer, and of an error line
// ending a stream (without Result).
type ErrorAnswer struct {
	Error Error `json:"error"`
	// Result is, on a single-command route, the rejected command's result.
	Result json.RawMessage `json:"result,omitempty"`
}

// Error is the error of an ErrorAnswer.
type Error struct {
	Code    ErrorCode `json:"code"`
	Message string    `json:"message"`
	// Leader is, for not_leader, the leader's base URL (when known).
	Leader string `json:"leader,omitempty"`
}
