package wire

// The answers of the API's reads, as production sends them: field order
// and tags are the bytes on the wire, so change them only with the API.

// MemberLots is the points of a member's lots that expire in one month.
type MemberLots struct {
	Expires   string `json:"expires"` // "YYYY-MM" (UTC), or "never"
	Available int64  `json:"available"`
	Pending   int64  `json:"pending"`
}

// Member is GET /v1/members/{id}.
type Member struct {
	Member     string   `json:"member"`
	Available  int64    `json:"available"`
	Pending    int64    `json:"pending"`
	Held       int64    `json:"held"`
	Tier       string   `json:"tier"`
	DiscountBP int64    `json:"discount_bp"`
	Perks      []string `json:"perks"`
	Plan       string   `json:"plan,omitempty"`
	Earned     int64    `json:"earned"`
	Redeemed   int64    `json:"redeemed"`
	Expired    int64    `json:"expired"`
	// Lots is there only when asked for (lots=true): nil leaves the field
	// out, an empty list answers [].
	Lots         []MemberLots `json:"lots,omitzero"`
	AppliedIndex uint64       `json:"applied_index"`
	Consistency  string       `json:"consistency"`
}

// MemberDump is one member in the form of `accrual replay --dump`'s
// member lines (SPEC §8; held and plan, SPEC §9.9, only when not 0 / not
// empty), in the same field order.
type MemberDump struct {
	Member    string `json:"member"`
	Available int64  `json:"available"`
	Pending   int64  `json:"pending"`
	Tier      string `json:"tier"`
	Earned    int64  `json:"earned"`
	Redeemed  int64  `json:"redeemed"`
	Expired   int64  `json:"expired"`
	Held      int64  `json:"held,omitempty"`
	Plan      string `json:"plan,omitempty"`
}

// Members is GET /v1/members: one page of all members in id byte order,
// every member as of the same applied index.
type Members struct {
	Members []MemberDump `json:"members"`
	// Next is the after= of the next page, "" when this page is the last.
	Next         string `json:"next"`
	AppliedIndex uint64 `json:"applied_index"`
	Consistency  string `json:"consistency"`
}

// Entry is one ledger entry as the ledger reads answer it.
type Entry struct {
	Seq       uint64 `json:"seq"`
	At        string `json:"at"` // RFC 3339 UTC with milliseconds
	CommandID string `json:"command_id"`
	Kind      string `json:"kind"`   // earn, mature, clawback, redeem, …
	Debit     string `json:"debit"`  // e.g. "member:M1:available", "operator:breakage"
	Credit    string `json:"credit"` //
	Points    int64  `json:"points"`
}

// Statement is GET /v1/members/{id}/statement: one page, newest first.
type Statement struct {
	Entries []Entry `json:"entries"`
	// Next is the cursor of the next (older) page, "" when there is none.
	Next string `json:"next"`
}

// Balance is GET /v1/members/{id}/balance. The fields are in name order:
// the answer was first written from a map, whose keys encoding/json sorts.
type Balance struct {
	At        string `json:"at"` // RFC 3339 UTC with milliseconds
	Available int64  `json:"available"`
	Held      int64  `json:"held"`
	Member    string `json:"member"`
	Pending   int64  `json:"pending"`
}

// CommandEntries is GET /v1/commands/{id}: the entries a command wrote
// (fields in name order, as Balance).
type CommandEntries struct {
	Entries []Entry `json:"entries"`
	ID      string  `json:"id"`
}

// PartnerFigures are a partner's points over a period.
type PartnerFigures struct {
	Issued     int64 `json:"issued"`      // earn + reward entries crediting partner:<p>:issued
	ClawedBack int64 `json:"clawed_back"` // clawback entries debiting partner:<p>:issued
	Redeemed   int64 `json:"redeemed"`    // redeem + capture entries debiting partner:<p>:redeemed
	Returned   int64 `json:"returned"`    // cancel entries crediting partner:<p>:redeemed
	Net        int64 `json:"net"`         // issued - clawed_back - redeemed + returned
}

// PartnerDay is one UTC day of a settlement.
type PartnerDay struct {
	Day     string `json:"day"`      // "2006-01-02"
	StartMS int64  `json:"start_ms"` // the day's 00:00 UTC
	PartnerFigures
}

// PartnerSettlement is one partner's figures over a period.
type PartnerSettlement struct {
	Partner string `json:"partner"`
	PartnerFigures
	Days []PartnerDay `json:"days"` // ascending, days without figures omitted
}

// Settlement is GET /v1/partners/{id}/settlement over [From, To) (fields
// in name order, as Balance).
type Settlement struct {
	From    string            `json:"from"` // RFC 3339 UTC with milliseconds
	Partner PartnerSettlement `json:"partner"`
	To      string            `json:"to"`
}

// Stats is GET /v1/stats: the program's running totals.
type Stats struct {
	Members        int     `json:"members"`
	Commands       int     `json:"commands"`
	Issued         int64   `json:"issued"`
	Redeemed       int64   `json:"redeemed"`
	Breakage       int64   `json:"breakage"`
	Adjustments    int64   `json:"adjustments"`
	Rewards        int64   `json:"rewards"`
	Outstanding    int64   `json:"outstanding_liability"`
	RedemptionRate float64 `json:"redemption_rate"` // redeemed / (issued + rewards + adjustments)
	BreakageRate   float64 `json:"breakage_rate"`   // breakage / (issued + rewards + adjustments)
	AppliedIndex   uint64  `json:"applied_index"`
	// SPEC §10: each campaign budget and each reward of the catalogue;
	// absent when the program has none.
	Budgets   []Budget `json:"budgets,omitempty"`
	Catalogue []Stock  `json:"catalogue,omitempty"`
}

// Budget is a campaign's budget (SPEC §10.1): what accepted purchases
// have spent of it and what is left.
type Budget struct {
	Campaign     string `json:"campaign"`
	BudgetPoints int64  `json:"budget_points"`
	Spent        int64  `json:"spent"`
	Left         int64  `json:"left"`
}

// Stock is a reward of the catalogue (SPEC §10.5): its claims not
// cancelled and, for a limited stock, what is left (absent: unlimited).
type Stock struct {
	Reward  string `json:"reward"`
	Partner string `json:"partner"`
	Points  int64  `json:"points"`
	Stock   int64  `json:"stock"` // 0: unlimited
	Claimed int64  `json:"claimed"`
	Left    *int64 `json:"left,omitempty"`
}

// ProgramState is GET /v1/program/state: the program's budgets and
// catalogue as of AppliedIndex (the program document itself is GET
// /v1/program).
type ProgramState struct {
	Budgets      []Budget `json:"budgets"`
	Catalogue    []Stock  `json:"catalogue"`
	AppliedIndex uint64   `json:"applied_index"`
}

// Status is GET /v1/cluster: the answering node's view of the cluster.
// Its keys are the Go field names (it was first the Raft node's status
// struct, encoded without tags).
type Status struct {
	ID             string      `json:"ID"`
	State          string      `json:"State"` // Follower, Candidate, Leader, Shutdown
	LeaderID       string      `json:"LeaderID"`
	LeaderAddr     string      `json:"LeaderAddr"` // Raft address
	LeaderHTTP     string      `json:"LeaderHTTP"`
	Term           uint64      `json:"Term"`
	CommitIndex    uint64      `json:"CommitIndex"`
	AppliedIndex   uint64      `json:"AppliedIndex"`
	LastIndex      uint64      `json:"LastIndex"`
	LedgerPosition uint64      `json:"LedgerPosition"`
	ClusterID      string      `json:"ClusterID,omitempty"` // "" until a fresh node has joined
	Disk           DiskStatus  `json:"Disk"`
	Clock          ClockStatus `json:"Clock"`
	Scrub          ScrubStatus `json:"Scrub"`
	Queued         int64       `json:"Queued"` // commands waiting or in flight
	Servers        []Server    `json:"Servers"`
	// Kafka: where ingest stands in every partition consumed (absent when
	// nothing was ever consumed and no --kafka-topics are set).
	Kafka []KafkaPartition `json:"Kafka,omitempty"`
}

// ClockStatus is the node's view of the cluster clock: the time a leader
// stamps is one a majority of the voters' clocks agree on.
type ClockStatus struct {
	OffsetMS     int64 `json:"OffsetMS"`     // this node's clock minus the agreed time (0 while none)
	Synchronized bool  `json:"Synchronized"` // a leader stamps time only while true
	ToleranceMS  int64 `json:"ToleranceMS"`
	Agreeing     int   `json:"Agreeing"` // clocks (this node's included) that agree
	Voters       int   `json:"Voters"`
	EngineMS     int64 `json:"EngineMS"` // the engine clock as of AppliedIndex (Unix ms)
}

// ScrubStatus is the node's background scrub of its tables since it
// started (docs/RELIABILITY.md, "Corrupted disks").
type ScrubStatus struct {
	BytesPerS     int64  `json:"BytesPerS"` // the rate bound; 0: the scrub is off
	Passes        uint64 `json:"Passes"`    // full passes over the ledger and the Raft log
	DamagedTables uint64 `json:"DamagedTables"`
	Bytes         uint64 `json:"Bytes"` // read from table files
}

// KafkaPartition is where Kafka ingest stands in one partition.
type KafkaPartition struct {
	Topic     string `json:"Topic"`
	Partition int32  `json:"Partition"`
	// Next is the offset of the first message not applied (replicated:
	// the same on every node; -1 when none is applied yet).
	Next int64 `json:"Next"`
	// HighWatermark is the partition's end at the leader's last fetch, and
	// Lag = HighWatermark - Next; -1 when unknown (on a follower).
	HighWatermark int64 `json:"HighWatermark"`
	Lag           int64 `json:"Lag"`
}

// DiskStatus is the node's disk guard.
type DiskStatus struct {
	FreeBytes     uint64 `json:"FreeBytes"`    // as of the last poll
	ReserveBytes  uint64 `json:"ReserveBytes"` // 0: the guard is off
	WritesRefused bool   `json:"WritesRefused"`
}

// Server is one member of the Raft configuration.
type Server struct {
	ID       string `json:"ID"`
	RaftAddr string `json:"RaftAddr"`
	HTTPAddr string `json:"HTTPAddr"` // "" if not registered
	Voter    bool   `json:"Voter"`
}

// Change is one line of GET /v1/changes: a ledger entry (its seq is the
// feed's cursor) and the balances after it of the members it touches.
type Change struct {
	Entry
	// Balances has one line per member the entry touches: none for an
	// entry between partner and operator accounts, two for a transfer
	// (the debit's member first).
	Balances []MemberBalance `json:"balances"`
}

// MemberBalance is a member's balance after a change.
type MemberBalance struct {
	Member    string `json:"member"`
	Available int64  `json:"available"`
	Pending   int64  `json:"pending"`
	Held      int64  `json:"held"`
}
