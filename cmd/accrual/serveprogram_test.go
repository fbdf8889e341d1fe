package main

import (
	"os"
	"strings"
	"testing"

	"github.com/accrual/accrual/engine"
)

// TestProgramFlagMustBeTheClusters: on a restart --program may name the
// program the node was first started with or the cluster's program in
// force (after a PUT /v1/program); any other is refused, naming both.
func TestProgramFlagMustBeTheClusters(t *testing.T) {
	club, _ := os.ReadFile("../../testdata/club.yaml")
	cashback, _ := os.ReadFile("../../testdata/cashback.yaml")
	changed := []byte(strings.Replace(string(club), "\nplans:", "\n  - id: bookshop\nplans:", 1))
	inForce, err := engine.ParseProgram(changed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name         string
		flag, stored []byte
		refused      bool
	}{
		{"no flag", nil, club, false},
		{"the first program", club, club, false},
		{"the program in force", changed, club, false},
		{"another program", cashback, club, true},
	} {
		err := programPick{path: "p.yaml", flag: c.flag, stored: c.stored}.check(inForce)
		if refused := err != nil; refused != c.refused {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && (!strings.Contains(err.Error(), `"demo-cashback"`) || !strings.Contains(err.Error(), `"demo-club"`)) {
			t.Errorf("%s: the refusal names not both programs: %v", c.name, err)
		}
	}
}
