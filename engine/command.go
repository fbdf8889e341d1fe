package engine

// CommandType is the kind of a command (SPEC §5, §9, §10).
type CommandType uint8

// Command types. The zero value is no valid type.
const (
	TypeNone CommandType = iota
	TypePurchase
	TypeRefund
	TypeRedeem
	TypeCancelRedemption
	TypeAdjust
	TypeTick
	TypeQuote
	TypeMembership
	TypeReferral
	TypeAction
	TypeTransfer
	TypeHold
	TypeCapture
	TypeRelease
	TypeClaim
	typeCount
)

var typeNames = [typeCount]string{"", "purchase", "refund", "redeem", "cancel_redemption", "adjust", "tick",
	"quote", "membership", "referral", "action", "transfer", "hold", "capture", "release", "claim"}

func (t CommandType) String() string {
	if t < typeCount {
		return typeNames[t]
	}
	return "unknown"
}

// Field bits: which fields a command carries.
const (
	fType uint32 = 1 << iota
	fID
	fMember
	fPartner
	fAmount
	fCategory
	fAt
	fOriginal
	fPoints
	fReason
	fPlan
	fReferred
	fAction
	fTo
	fTimeout
	fReward
)

// required and allowed fields per type (SPEC §5, §9, §10).
var (
	requiredFields = [typeCount]uint32{
		TypePurchase:         fType | fID | fMember | fPartner | fAmount,
		TypeRefund:           fType | fID | fMember | fPartner | fOriginal | fAmount,
		TypeRedeem:           fType | fID | fMember | fPartner | fPoints,
		TypeCancelRedemption: fType | fID | fOriginal,
		TypeAdjust:           fType | fID | fMember | fPoints,
		TypeTick:             fType,
		TypeQuote:            fType | fMember | fPartner | fAmount,
		TypeMembership:       fType | fID | fMember | fPlan,
		TypeReferral:         fType | fID | fMember | fReferred,
		TypeAction:           fType | fID | fMember | fAction,
		TypeTransfer:         fType | fID | fMember | fTo | fPoints,
		TypeHold:             fType | fID | fMember | fPartner | fPoints,
		TypeCapture:          fType | fID | fOriginal,
		TypeRelease:          fType | fID | fOriginal,
		TypeClaim:            fType | fID | fMember | fReward,
	}
	optionalFields = [typeCount]uint32{
		TypePurchase:         fAt | fCategory,
		TypeRefund:           fAt,
		TypeRedeem:           fAt,
		TypeCancelRedemption: fAt,
		TypeAdjust:           fAt | fReason,
		TypeTick:             fAt | fID,
		TypeQuote:            fAt | fID | fCategory,
		TypeMembership:       fAt,
		TypeReferral:         fAt,
		TypeAction:           fAt,
		TypeTransfer:         fAt,
		TypeHold:             fAt | fTimeout,
		TypeCapture:          fAt | fPoints,
		TypeRelease:          fAt,
		TypeClaim:            fAt,
	}
)

// Command is one decoded command. Its byte slices point into the decoder's
// input or scratch buffer and are valid until the decoder decodes again; the
// engine copies what it keeps.
type Command struct {
	Type CommandType
	// Why an invalid command is invalid (fault.go), in what would be
	// padding: a fault's fields, flattened so that Command does not grow.
	faultRule  faultRule
	faultField uint8
	faultAt    int32

	ID       []byte
	Member   []byte
	Partner  []byte
	Category []byte
	Original []byte
	Reason   []byte
	Plan     []byte
	Referred []byte
	Action   []byte
	To       []byte
	Reward   []byte
	Amount   int64
	Points   int64
	TimeoutS int64
	AtMS     int64
	Fields   uint32 // fType | fID | …: which fields were present

	// Invalid is set when the command fails the `invalid` check; ID then
	// holds the id to echo (the id when it was a JSON string, else empty),
	// and Problem says why.
	Invalid bool
	// Hash is a digest of all fields but `at`: same id + same Hash = same payload.
	Hash uint64
}

// Has reports whether the command carried the field.
func (c *Command) HasAt() bool { return c.Fields&fAt != 0 }

// HasID reports whether the command carried an id.
func (c *Command) HasID() bool { return c.Fields&fID != 0 }

// SetAt sets the command's time, as a server does for a command without `at`.
func (c *Command) SetAt(tMS int64) {
	c.AtMS = tMS
	c.Fields |= fAt
}
