package shellwords

import (
	"slices"
	"testing"
)

func TestSplitQuotesAsShDoes(t *testing.T) {
	for _, tc := range []struct {
		line string
		want []string
	}{
		{`curl -s $A/v1/stats`, []string{"curl", "-s", "$A/v1/stats"}},
		{`curl -d '{"id":"a b"}' "$A/v1/x?y=1"`, []string{"curl", "-d", `{"id":"a b"}`, "$A/v1/x?y=1"}},
		{"curl \\\n  -s", []string{"curl", "-s"}},
		{`a''b "" c`, []string{"ab", "", "c"}},
		{"", nil},
	} {
		if got := Split(tc.line); !slices.Equal(got, tc.want) {
			t.Errorf("Split(%q) = %q, want %q", tc.line, got, tc.want)
		}
	}
}
