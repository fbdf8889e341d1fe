package main

import (
	"os"
	"testing"
)

// TestMain lets tests run this binary as a child process: with
// ACCRUAL_TEST_MAIN=1 the test binary is `accrual` itself.
func TestMain(m *testing.M) {
	if os.Getenv("ACCRUAL_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}
