package codec

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// A loyalty command as the engine would batch it into one Raft entry.
type command struct {
	typ      string
	id       string
	member   string
	partner  string
	amount   uint64
	category string
	at       time.Time
}

var (
	cmdTypes   = []string{"purchase", "purchase", "purchase", "purchase", "purchase", "purchase", "purchase", "refund", "redeem", "cancel"}
	categories = []string{"fuel", "grocery", "pharmacy", "electronics", "fashion", "travel", "home", "dining", "books", "beauty", "toys", "online"}
)

// genCommands produces n commands from a deterministic seed: ids increase
// (with gaps, as from several clients), members are spread over 35M with a
// skew towards active ones, partners Zipf-skewed over 500, amounts in cents,
// timestamps a few ms apart.
func genCommands(seed uint64, n int) []command {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	partnerZipf := rand.NewZipf(rng, 1.2, 4, 499)
	id := 100_000 + rng.Uint64N(900_000)
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	cmds := make([]command, n)
	for i := range cmds {
		id += 1 + rng.Uint64N(4)
		at = at.Add(time.Duration(rng.Uint64N(3_000)) * time.Microsecond)
		var member uint64
		if rng.Uint32N(4) == 0 {
			member = rng.Uint64N(200_000) // the hot quarter
		} else {
			member = rng.Uint64N(35_000_000)
		}
		amount := 100 + rng.Uint64N(20_000)
		if rng.Uint32N(3) == 0 {
			amount = amount/100*100 - 1 // x.99 prices
		}
		cmds[i] = command{
			typ:      cmdTypes[rng.IntN(len(cmdTypes))],
			id:       "payback-" + strconv.FormatUint(id, 10),
			member:   fmt.Sprintf("M%07d", member),
			partner:  fmt.Sprintf("p%04d", 1+partnerZipf.Uint64()),
			amount:   amount,
			category: categories[rng.IntN(len(categories))],
			at:       at,
		}
	}
	return cmds
}

// ndjson renders one JSON object per line, as the HTTP API would accept them.
func ndjson(cmds []command) []byte {
	var b []byte
	for _, c := range cmds {
		b = append(b, `{"type":"`...)
		b = append(b, c.typ...)
		b = append(b, `","id":"`...)
		b = append(b, c.id...)
		b = append(b, `","member":"`...)
		b = append(b, c.member...)
		b = append(b, `","partner":"`...)
		b = append(b, c.partner...)
		b = append(b, `","amount":`...)
		b = strconv.AppendUint(b, c.amount, 10)
		b = append(b, `,"category":"`...)
		b = append(b, c.category...)
		b = append(b, `","at":"`...)
		b = c.at.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
		b = append(b, "\"}\n"...)
	}
	return b
}

// binaryRecords renders the compact form: type as one byte, strings as
// uvarint length + bytes, amount as uvarint, time as varint Unix millis.
func binaryRecords(cmds []command) []byte {
	var b []byte
	b = binary.AppendUvarint(b, uint64(len(cmds)))
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	for _, c := range cmds {
		var t byte
		switch c.typ {
		case "purchase":
			t = 1
		case "refund":
			t = 2
		case "redeem":
			t = 3
		case "cancel":
			t = 4
		}
		b = append(b, t)
		str(c.id)
		str(c.member)
		str(c.partner)
		b = binary.AppendUvarint(b, c.amount)
		str(c.category)
		b = binary.AppendVarint(b, c.at.UnixMilli())
	}
	return b
}

type payload struct {
	name  string
	cmds  int
	bytes []byte
}

func workloads() []payload {
	var out []payload
	for _, n := range []int{1000, 4000} {
		cmds := genCommands(uint64(n), n)
		out = append(out,
			payload{fmt.Sprintf("ndjson/%d", n), n, ndjson(cmds)},
			payload{fmt.Sprintf("binary/%d", n), n, binaryRecords(cmds)},
		)
	}
	return out
}
