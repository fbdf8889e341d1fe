package engine

// EntryKind is the kind of a ledger entry (SPEC §7, §9.9). The numbering is
// shared with package ledger.
type EntryKind uint8

// Entry kinds.
const (
	KindEarn EntryKind = iota + 1
	KindMature
	KindClawback
	KindRedeem
	KindCancel
	KindExpire
	KindAdjust
	KindHold
	KindRelease
	KindCapture
	KindTransfer
	KindReward
)

var kindNames = [...]string{"", "earn", "mature", "clawback", "redeem", "cancel", "expire", "adjust",
	"hold", "release", "capture", "transfer", "reward"}

func (k EntryKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// AccountKind names a kind of ledger account. The numbering is shared with
// package ledger.
type AccountKind uint8

// Account kinds.
const (
	AccountMemberPending AccountKind = iota + 1
	AccountMemberAvailable
	AccountMemberHeld
	AccountPartnerIssued
	AccountPartnerRedeemed
	AccountOperatorBreakage
	AccountOperatorAdjustments
	AccountOperatorRewards
)

// Account is a ledger account: Ref is a member index for member accounts, a
// partner index for partner accounts, 0 for operator accounts.
type Account struct {
	Kind AccountKind
	Ref  int32
}

// Entry is one double-entry ledger line: Points move from Credit to Debit
// (Debit's balance grows). CommandID is the id of the command whose
// processing wrote it ("" for a tick without id).
type Entry struct {
	AtMS      int64
	CommandID string
	Points    int64
	Kind      EntryKind
	Debit     Account
	Credit    Account
}

// AccountOwner returns the member or partner id an account belongs to.
func (e *Engine) AccountOwner(a Account) string {
	switch a.Kind {
	case AccountMemberPending, AccountMemberAvailable, AccountMemberHeld:
		return e.nameOf(e.members.at(a.Ref))
	case AccountPartnerIssued, AccountPartnerRedeemed:
		return e.prog.Partners[a.Ref].ID
	}
	return ""
}

func memberAcct(kind AccountKind, mi int32) Account  { return Account{Kind: kind, Ref: mi} }
func partnerAcct(kind AccountKind, pi int32) Account { return Account{Kind: kind, Ref: pi} }

var (
	breakageAcct    = Account{Kind: AccountOperatorBreakage}
	adjustmentsAcct = Account{Kind: AccountOperatorAdjustments}
	rewardsAcct     = Account{Kind: AccountOperatorRewards}
)
