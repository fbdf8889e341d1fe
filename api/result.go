package api

import (
	"bytes"

	"github.com/accrual/accrual/engine"
)

var codeByName = func() map[string]engine.ErrorCode {
	m := map[string]engine.ErrorCode{}
	for c := engine.ErrInvalid; c.String() != "unknown"; c++ {
		m[c.String()] = c
	}
	return m
}()

var errorKey = []byte(`"status":"error","error":"`)

// resultCodeName returns the error code of a result line, "" when accepted.
func resultCodeName(line []byte) []byte {
	i := bytes.Index(line, errorKey)
	if i < 0 {
		return nil
	}
	rest := line[i+len(errorKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil
	}
	return rest[:j]
}

// resultCode returns a result line's error code (OK when accepted) and
// whether it is a duplicate.
func resultCode(line []byte) (engine.ErrorCode, bool) {
	dup := bytes.HasSuffix(line, []byte(`"duplicate":true}`))
	name := resultCodeName(line)
	if name == nil {
		return engine.OK, dup
	}
	c, ok := codeByName[string(name)]
	if !ok {
		return engine.ErrorCode(255), dup
	}
	return c, dup
}
