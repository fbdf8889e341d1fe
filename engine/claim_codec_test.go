package engine

import (
	"encoding/hex"
	"testing"
)

// TestClaimsLeaveOtherCommandsBytes: adding the claim's reward field
// changes neither the payload digest nor the binary form of any other
// command (values written by the engine before claims existed), so stored
// records still match retries and old Raft logs still decode.
func TestClaimsLeaveOtherCommandsBytes(t *testing.T) {
	var d Decoder
	var c Command
	d.Decode([]byte(`{"type":"purchase","id":"p1","member":"m","partner":"shop","amount":2000,"category":"fuel","at":"2026-01-01T00:00:00Z"}`), &c)
	const wantHash = 0x23f6e7083f579453
	const wantBinary = "01017f5394573f08e7f62380a0d5edee66a01f0000027031016d0473686f70046675656c000000000000"
	if c.Hash != wantHash {
		t.Fatalf("purchase digest %#x, want %#x", c.Hash, uint64(wantHash))
	}
	if got := hex.EncodeToString(AppendBinary(nil, &c)); got != wantBinary {
		t.Fatalf("purchase binary %s, want %s", got, wantBinary)
	}
}

// TestClaimBinaryRoundTrip: a claim's reward travels in its binary form.
func TestClaimBinaryRoundTrip(t *testing.T) {
	var d Decoder
	var c, back Command
	d.Decode([]byte(`{"type":"claim","id":"c1","member":"m","reward":"mug","at":"2026-01-01T00:00:00Z"}`), &c)
	if c.Invalid || c.Type != TypeClaim || string(c.Reward) != "mug" {
		t.Fatalf("decoded %+v", c)
	}
	rest, err := DecodeBinary(AppendBinary(nil, &c), &back)
	if err != nil || len(rest) != 0 {
		t.Fatalf("DecodeBinary: %v, %d bytes left", err, len(rest))
	}
	if back.Type != TypeClaim || string(back.Reward) != "mug" || string(back.Member) != "m" || back.Hash != c.Hash || back.Fields != c.Fields {
		t.Fatalf("round trip %+v, want %+v", back, c)
	}
	var other Command
	d.Decode([]byte(`{"type":"claim","id":"c1","member":"m","reward":"cap","at":"2026-01-01T00:00:00Z"}`), &other)
	if other.Hash == c.Hash {
		t.Fatal("claims of different rewards have the same payload digest")
	}
}
