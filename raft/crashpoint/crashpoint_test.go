package crashpoint

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestParseNamesEveryPointAndRejectsTheRest(t *testing.T) {
	for p := ApplyBatch; p < numPoints; p++ {
		got, n, err := Parse(p.String())
		if err != nil || got != p || n != 1 {
			t.Fatalf("Parse(%q) = %v, %d, %v", p, got, n, err)
		}
		got, n, err = Parse(p.String() + ":7")
		if err != nil || got != p || n != 7 {
			t.Fatalf("Parse(%q:7) = %v, %d, %v", p, got, n, err)
		}
	}
	for _, bad := range []string{"", "apply", "apply-batch:", "apply-batch:0", "apply-batch:-1", "apply-batch:x", "snapshot-persist:1:2"} {
		if _, _, err := Parse(bad); err == nil {
			t.Fatalf("Parse(%q) accepted", bad)
		}
	}
}

// runHelper runs this test binary as a child that reaches points
// (TestHelperReachesPoints) under the given environment.
func runHelper(t *testing.T, env ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperReachesPoints$")
	cmd.Env = append(os.Environ(), append(env, "CRASHPOINT_HELPER=1")...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestHelperReachesPoints is the child of the tests below: it reaches
// log-compaction three times, then apply-batch once, printing each hit.
func TestHelperReachesPoints(t *testing.T) {
	if os.Getenv("CRASHPOINT_HELPER") != "1" {
		t.Skip("child process of TestCrashKillsAtTheNthHitOnly")
	}
	if err := Err(); err != nil {
		fmt.Println("err:", err)
		return
	}
	for i := 1; i <= 3; i++ {
		At(LogCompaction)
		fmt.Println("passed log-compaction", i)
	}
	At(ApplyBatch)
	fmt.Println("passed apply-batch")
}

func TestCrashKillsAtTheNthHitOnly(t *testing.T) {
	out, err := runHelper(t, "ACCRUAL_FAULTS=1", EnvVar+"=log-compaction:2")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child was not killed by SIGKILL: %v\n%s", err, out)
	}
	if !strings.Contains(out, "passed log-compaction 1") || strings.Contains(out, "passed log-compaction 2") {
		t.Fatalf("the kill was not at the second hit:\n%s", out)
	}

	// Another point armed: these pass untouched.
	out, err = runHelper(t, "ACCRUAL_FAULTS=1", EnvVar+"=snapshot-install")
	if err != nil || !strings.Contains(out, "passed apply-batch") {
		t.Fatalf("unarmed points stopped the child: %v\n%s", err, out)
	}

	// Without fault mode the variable is refused, not ignored.
	out, err = runHelper(t, EnvVar+"=apply-batch")
	if err != nil || !strings.Contains(out, "needs ACCRUAL_FAULTS=1") {
		t.Fatalf("crash point outside fault mode: %v\n%s", err, out)
	}
}
