package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/accrual/accrual/api/wire"
	"github.com/accrual/accrual/client"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// TestErrorCodes: every code of the API's table reaches the client as the
// same typed code, with its status and retryability.
func TestErrorCodes(t *testing.T) {
	for _, code := range wire.ErrorCodes() {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code.Status())
			w.Write([]byte(`{"error":{"code":"` + string(code) + `","message":"` + code.Sentence() + `"}}`))
		}))
		_, err := client.New(srv.URL, "").Stats(context.Background())
		srv.Close()
		var e *client.Error
		if !errorsAs(err, &e) || e.Code != code || e.Status != code.Status() || e.Message != code.Sentence() ||
			e.Retryable() != code.Retryable() || !client.IsCode(err, code) {
			t.Errorf("%s: %#v", code, err)
		}
	}
	for _, c := range []wire.ErrorCode{wire.Overloaded, wire.NotLeader, wire.NoLeader, wire.Timeout, wire.Unavailable} {
		if !c.Retryable() {
			t.Errorf("%s is not retryable", c)
		}
	}
}
