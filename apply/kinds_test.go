package apply

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// engineEntryKinds and engineAccountKinds name every kind constant of
// package engine; TestKinds checks them against the engine's source, so a
// kind added there fails here until it is mapped in kinds.go and listed.
var (
	engineEntryKinds = map[string]engine.EntryKind{
		"KindEarn": engine.KindEarn, "KindMature": engine.KindMature, "KindClawback": engine.KindClawback,
		"KindRedeem": engine.KindRedeem, "KindCancel": engine.KindCancel, "KindExpire": engine.KindExpire,
		"KindAdjust": engine.KindAdjust, "KindHold": engine.KindHold, "KindRelease": engine.KindRelease,
		"KindCapture": engine.KindCapture, "KindTransfer": engine.KindTransfer, "KindReward": engine.KindReward,
	}
	engineAccountKinds = map[string]engine.AccountKind{
		"AccountMemberPending": engine.AccountMemberPending, "AccountMemberAvailable": engine.AccountMemberAvailable,
		"AccountMemberHeld": engine.AccountMemberHeld, "AccountPartnerIssued": engine.AccountPartnerIssued,
		"AccountPartnerRedeemed": engine.AccountPartnerRedeemed, "AccountOperatorBreakage": engine.AccountOperatorBreakage,
		"AccountOperatorAdjustments": engine.AccountOperatorAdjustments, "AccountOperatorRewards": engine.AccountOperatorRewards,
	}
)

// TestKinds walks every entry and account kind the engine declares and
// checks that the ledger kind it maps to carries the same name: "KindEarn"
// is "earn" in both packages, "AccountMemberPending" is ledger's
// "member-pending". It also checks that the mapping reaches every ledger kind.
func TestKinds(t *testing.T) {
	declared := engineConsts(t)
	checkListed(t, "EntryKind", declared["EntryKind"], engineEntryKinds)
	checkListed(t, "AccountKind", declared["AccountKind"], engineAccountKinds)
	hit := map[ledger.Kind]bool{}
	for name, k := range engineEntryKinds {
		lk := LedgerKind(k)
		want := strings.ToLower(strings.TrimPrefix(name, "Kind"))
		if !lk.Valid() || lk.String() != want || k.String() != want {
			t.Errorf("engine.%s (%q) maps to ledger kind %d %q, want %q", name, k, lk, lk, want)
		}
		hit[lk] = true
	}
	for k := ledger.Kind(1); k.Valid(); k++ {
		if !hit[k] {
			t.Errorf("ledger kind %q has no engine kind", k)
		}
	}
	hitAcct := map[ledger.AccountKind]bool{}
	for name, k := range engineAccountKinds {
		lk := LedgerAccountKind(k)
		if want := kebab(strings.TrimPrefix(name, "Account")); lk.String() != want {
			t.Errorf("engine.%s maps to ledger account kind %q, want %q", name, lk, want)
		}
		hitAcct[lk] = true
	}
	if len(hitAcct) != len(accountKinds)-1 {
		t.Errorf("%d engine account kinds reach %d ledger kinds", len(engineAccountKinds), len(hitAcct))
	}
	if LedgerKind(0) != 0 || LedgerKind(255) != 0 || LedgerAccountKind(0) != 0 || LedgerAccountKind(255) != 0 {
		t.Error("an unknown engine kind must map to the invalid ledger kind 0")
	}
}

// checkListed fails for each constant of type typ declared in package engine
// that the test's table does not list, and each listed one it does not declare.
func checkListed[K any](t *testing.T, typ string, declared []string, listed map[string]K) {
	t.Helper()
	for _, name := range declared {
		if _, ok := listed[name]; !ok {
			t.Errorf("engine declares %s %s: map it in kinds.go and list it in kinds_test.go", typ, name)
		}
	}
	if len(declared) != len(listed) {
		t.Errorf("engine declares %d %s constants %v, the test lists %d", len(declared), typ, declared, len(listed))
	}
}

// engineConsts returns the exported constants of package engine by type
// name, read from its source: in a const block a constant with neither type
// nor value repeats the one before it (the iota pattern); one with a value
// but no type is left out (untyped, or an alias of another constant).
func engineConsts(t *testing.T) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "engine", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("engine sources: %v", err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			typ := ""
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				switch id, ok := vs.Type.(*ast.Ident); {
				case ok:
					typ = id.Name
				case vs.Type != nil || len(vs.Values) > 0:
					typ = "" // another type, an untyped value, or an alias of a kind
				}
				for _, n := range vs.Names {
					if n.IsExported() && typ != "" {
						out[typ] = append(out[typ], n.Name)
					}
				}
			}
		}
	}
	for _, names := range out {
		sort.Strings(names)
	}
	return out
}

// kebab turns "MemberPending" into "member-pending".
func kebab(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
