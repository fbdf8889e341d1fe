package apply

import (
	"github.com/accrual/accrual/engine"
	"github.com/accrual/accrual/ledger"
)

// The engine and the ledger each declare their kinds (the engine must not
// import the ledger, the ledger stores them); these tables are the one place
// that says which is which. TestKinds fails when the engine declares a kind
// missing here.
var (
	entryKinds = [...]ledger.Kind{
		engine.KindEarn:     ledger.KindEarn,
		engine.KindMature:   ledger.KindMature,
		engine.KindClawback: ledger.KindClawback,
		engine.KindRedeem:   ledger.KindRedeem,
		engine.KindCancel:   ledger.KindCancel,
		engine.KindExpire:   ledger.KindExpire,
		engine.KindAdjust:   ledger.KindAdjust,
		engine.KindHold:     ledger.KindHold,
		engine.KindRelease:  ledger.KindRelease,
		engine.KindCapture:  ledger.KindCapture,
		engine.KindTransfer: ledger.KindTransfer,
		engine.KindReward:   ledger.KindReward,
	}
	accountKinds = [...]ledger.AccountKind{
		engine.AccountMemberPending:       ledger.AccountMemberPending,
		engine.AccountMemberAvailable:     ledger.AccountMemberAvailable,
		engine.AccountMemberHeld:          ledger.AccountMemberHeld,
		engine.AccountPartnerIssued:       ledger.AccountPartnerIssued,
		engine.AccountPartnerRedeemed:     ledger.AccountPartnerRedeemed,
		engine.AccountOperatorBreakage:    ledger.AccountOperatorBreakage,
		engine.AccountOperatorAdjustments: ledger.AccountOperatorAdjustments,
		engine.AccountOperatorRewards:     ledger.AccountOperatorRewards,
	}
)

// LedgerKind returns the ledger kind of an engine entry kind; 0 (which the
// ledger refuses to store) for a kind it does not know.
func LedgerKind(k engine.EntryKind) ledger.Kind {
	if int(k) < len(entryKinds) {
		return entryKinds[k]
	}
	return 0
}

// LedgerAccountKind returns the ledger kind of an engine account kind; 0
// (which the ledger refuses to store) for a kind it does not know.
func LedgerAccountKind(k engine.AccountKind) ledger.AccountKind {
	if int(k) < len(accountKinds) {
		return accountKinds[k]
	}
	return 0
}
