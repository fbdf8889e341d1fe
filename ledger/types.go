package ledger

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Kind is the kind of a ledger entry.
type Kind uint8

// Entry kinds, in this numeric order starting at 1.
const (
	KindEarn Kind = iota + 1
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
	kindMax = KindReward
)

var kindNames = [...]string{"", "earn", "mature", "clawback", "redeem", "cancel", "expire", "adjust", "hold", "release", "capture", "transfer", "reward"}

// String returns the spec name of the kind ("earn", "mature", ...).
func (k Kind) String() string {
	if k >= 1 && k <= kindMax {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return k >= 1 && k <= kindMax }

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for k := Kind(1); k <= kindMax; k++ {
		if kindNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

// AccountKind is the kind of a ledger account.
type AccountKind uint8

// Account kinds, in this numeric order starting at 1.
const (
	AccountMemberPending AccountKind = iota + 1
	AccountMemberAvailable
	AccountMemberHeld
	AccountPartnerIssued
	AccountPartnerRedeemed
	AccountOperatorBreakage
	AccountOperatorAdjustments
	AccountOperatorRewards
	accountKindMax = AccountOperatorRewards
)

var accountKindNames = [...]string{"", "member-pending", "member-available", "member-held", "partner-issued", "partner-redeemed", "operator-breakage", "operator-adjustments", "operator-rewards"}

// String names the account kind ("member-pending", "partner-issued", ...).
func (k AccountKind) String() string {
	if k >= 1 && k <= accountKindMax {
		return accountKindNames[k]
	}
	return "account-kind(" + strconv.Itoa(int(k)) + ")"
}

// IsMember reports whether the account kind belongs to a member.
func (k AccountKind) IsMember() bool { return k >= AccountMemberPending && k <= AccountMemberHeld }

// IsPartner reports whether the account kind belongs to a partner.
func (k AccountKind) IsPartner() bool {
	return k == AccountPartnerIssued || k == AccountPartnerRedeemed
}

// IsOperator reports whether the account kind is an operator account.
func (k AccountKind) IsOperator() bool {
	return k >= AccountOperatorBreakage && k <= AccountOperatorRewards
}

// Account is a ledger account. Owner is the member id or partner id, "" for
// operator accounts.
type Account struct {
	Kind  AccountKind
	Owner string
}

// Convenience constructors.
func MemberPending(m string) Account   { return Account{AccountMemberPending, m} }
func MemberAvailable(m string) Account { return Account{AccountMemberAvailable, m} }
func MemberHeld(m string) Account      { return Account{AccountMemberHeld, m} }
func PartnerIssued(p string) Account   { return Account{AccountPartnerIssued, p} }
func PartnerRedeemed(p string) Account { return Account{AccountPartnerRedeemed, p} }

var (
	OperatorBreakage    = Account{Kind: AccountOperatorBreakage}
	OperatorAdjustments = Account{Kind: AccountOperatorAdjustments}
	OperatorRewards     = Account{Kind: AccountOperatorRewards}
)

// String renders the account as in SPEC §7: "member:<m>:pending",
// "partner:<p>:issued", "operator:breakage", ...
func (a Account) String() string {
	switch a.Kind {
	case AccountMemberPending:
		return "member:" + a.Owner + ":pending"
	case AccountMemberAvailable:
		return "member:" + a.Owner + ":available"
	case AccountMemberHeld:
		return "member:" + a.Owner + ":held"
	case AccountPartnerIssued:
		return "partner:" + a.Owner + ":issued"
	case AccountPartnerRedeemed:
		return "partner:" + a.Owner + ":redeemed"
	case AccountOperatorBreakage:
		return "operator:breakage"
	case AccountOperatorAdjustments:
		return "operator:adjustments"
	case AccountOperatorRewards:
		return "operator:rewards"
	}
	return fmt.Sprintf("account(%d):%s", a.Kind, a.Owner)
}

// maxOwnerLen bounds member/partner ids (the spec allows 64 bytes).
const maxOwnerLen = 255

// maxCommandIDLen bounds command ids (the spec allows 64 bytes).
const maxCommandIDLen = 1024

func (a Account) validate() error {
	switch {
	case a.Kind < 1 || a.Kind > accountKindMax:
		return fmt.Errorf("invalid account kind %d", a.Kind)
	case a.Kind.IsOperator():
		if a.Owner != "" {
			return fmt.Errorf("operator account %s with owner %q", a, a.Owner)
		}
	default:
		if a.Owner == "" || len(a.Owner) > maxOwnerLen {
			return fmt.Errorf("account %s: owner must be 1..%d bytes", a, maxOwnerLen)
		}
	}
	return nil
}

// Entry is one ledger entry. Points move from Credit to Debit: Debit's balance
// += Points, Credit's balance -= Points. Points > 0 always.
type Entry struct {
	Seq       uint64
	AtMS      int64
	CommandID string
	Kind      Kind
	Debit     Account
	Credit    Account
	Points    int64
}

func (e *Entry) validate() error {
	if !e.Kind.Valid() {
		return fmt.Errorf("invalid kind %d", e.Kind)
	}
	if e.Points <= 0 {
		return fmt.Errorf("points %d <= 0", e.Points)
	}
	if err := e.Debit.validate(); err != nil {
		return fmt.Errorf("debit: %w", err)
	}
	if err := e.Credit.validate(); err != nil {
		return fmt.Errorf("credit: %w", err)
	}
	if e.Debit == e.Credit {
		return fmt.Errorf("debit and credit are the same account %s", e.Debit)
	}
	if len(e.CommandID) > maxCommandIDLen {
		return fmt.Errorf("command id longer than %d bytes", maxCommandIDLen)
	}
	for i := 0; i < len(e.CommandID); i++ {
		if e.CommandID[i] == 0 {
			return errors.New("command id contains a NUL byte")
		}
	}
	return nil
}

// ErrNotFound is returned for an unknown member.
var ErrNotFound = errors.New("ledger: not found")

// ErrCorrupt wraps every error Verify reports about the stored data.
var ErrCorrupt = errors.New("ledger: corrupt")

// MarshalJSON writes an entry for people and tools: kind and accounts by
// name, the time as RFC 3339.
func (e Entry) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Seq       uint64 `json:"seq"`
		At        string `json:"at"`
		CommandID string `json:"command_id"`
		Kind      string `json:"kind"`
		Debit     string `json:"debit"`
		Credit    string `json:"credit"`
		Points    int64  `json:"points"`
	}{e.Seq, time.UnixMilli(e.AtMS).UTC().Format("2006-01-02T15:04:05.000Z"), e.CommandID, e.Kind.String(),
		e.Debit.String(), e.Credit.String(), e.Points})
}
