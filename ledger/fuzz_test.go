package ledger

import (
	"reflect"
	"testing"
)

// FuzzDecodeBlock: the decoders never panic on arbitrary bytes, and a block
// that decodes re-encodes to a value that decodes to the same entries.
func FuzzDecodeBlock(f *testing.F) {
	g := newGen(1, 3, 2)
	for _, n := range []int{1, 5, 64} {
		es := g.batch(n)
		if len(es) > blockEntries {
			es = es[:blockEntries]
		}
		raws := make([]rawEntry, len(es))
		for i, e := range es {
			raws[i] = rawEntry{Seq: uint64(i + 1), AtMS: e.AtMS, CommandID: e.CommandID, Kind: e.Kind,
				Debit: acctCode(uint32(i+1), e.Debit.Kind), Credit: acctCode(uint32(i+2), e.Credit.Kind), Points: e.Points}
			if e.Debit.Kind.IsOperator() {
				raws[i].Debit = acctCode(0, e.Debit.Kind)
			}
			if e.Credit.Kind.IsOperator() {
				raws[i].Credit = acctCode(0, e.Credit.Kind)
			}
		}
		f.Add(encodeBlock(nil, raws))
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0, 1, 0, 0, 0, 8, 9, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeMemberIx(b)
		decodeBatchRec(b)
		decodeMeta(b)
		raws, err := decodeBlock(b, 7, nil)
		if err != nil {
			return
		}
		again, err := decodeBlock(encodeBlock(nil, raws), 7, nil)
		if err != nil || !reflect.DeepEqual(raws, again) {
			t.Fatalf("round trip: %v\n%v\n%v", err, raws, again)
		}
	})
}
