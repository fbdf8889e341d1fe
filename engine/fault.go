package engine

import (
	"fmt"
	"math/bits"
	"strings"
)

// Why a command failed the `invalid` check. SPEC §6 result lines only say
// `invalid`; the HTTP routes that take one command answer a sentence that
// names the field and the rule (Command.Problem). The decoder notes the
// rule in Command's padding, so a valid command pays nothing for it, and
// the sentence is built only on the error path.

// faultRule is the rule an invalid command broke.
type faultRule uint8

const (
	faultNone       faultRule = iota
	faultSyntax               // the line is not one JSON object; at: where it stops
	faultUnknown              // a field SPEC does not name; at: its key
	faultRepeated             // a field named twice (SPEC §6, v2.1)
	faultType                 // type missing, not a string, or no command type
	faultMissing              // a field the type requires is missing
	faultNotAllowed           // a field the type does not take
	faultNotInt               // an integer field that is not a JSON integer
	faultNotString            // a string field that is not a string
	faultValue                // a value ill-formed or out of range
	faultSameMember           // transfer to, or referral of, the member itself
)

// fault is a rule and the field (bit index in fieldNames) it concerns.
type fault struct {
	rule  faultRule
	field uint8
	at    int32 // byte offset in the line, for faultSyntax and faultUnknown
}

// fieldNames are the JSON names of the field bits, in bit order.
var fieldNames = [...]string{"type", "id", "member", "partner", "amount", "category", "at",
	"original", "points", "reason", "plan", "referred", "action", "to", "timeout_s", "reward"}

func bitIndex(bit uint32) uint8 { return uint8(bits.TrailingZeros32(bit)) }

func (c *Command) setFault(f fault) { c.faultRule, c.faultField, c.faultAt = f.rule, f.field, f.at }

func (c *Command) fault() fault { return fault{c.faultRule, c.faultField, c.faultAt} }

// RepeatedField returns the name of the field an invalid command named
// twice, "" when that is not why it is invalid.
func (c *Command) RepeatedField() string {
	if !c.Invalid || c.faultRule != faultRepeated {
		return ""
	}
	return fieldNames[c.faultField]
}

// Problem returns, for a command that failed the `invalid` check, a
// sentence naming the field and the rule it broke; line is the line the
// command was decoded from. It is "" for a command that passed.
func (c *Command) Problem(line []byte) string {
	if !c.Invalid {
		return ""
	}
	f := c.fault()
	name := fmt.Sprintf("%q", fieldNames[f.field%uint8(len(fieldNames))])
	switch f.rule {
	case faultSyntax:
		return fmt.Sprintf("the command is not one JSON object (stopped near %q)", excerpt(line, int(f.at)))
	case faultUnknown:
		return fmt.Sprintf("unknown field %q: %s", keyAt(line, int(f.at)), c.fieldList())
	case faultRepeated:
		return "the field " + name + " appears twice; name each field once"
	case faultType:
		return `"type" must be one of ` + strings.Join(typeNames[1:], ", ")
	case faultMissing:
		return fmt.Sprintf("a %s needs the field %s", c.Type, name)
	case faultNotAllowed:
		return fmt.Sprintf("a %s takes no field %s: %s", c.Type, name, c.fieldList())
	case faultNotInt:
		return name + " must be a JSON integer (no fraction, exponent or quotes)"
	case faultNotString:
		return name + " must be a JSON string"
	case faultSameMember:
		return name + ` must name another member than "member"`
	}
	return name + " " + c.valueRule(f.field)
}

// valueRule is the rule a field's value must follow (SPEC §1, §5, §9).
func (c *Command) valueRule(field uint8) string {
	switch uint32(1) << field {
	case fID, fOriginal:
		return "must be 1 to 64 printable ASCII characters (0x21 to 0x7E)"
	case fMember, fReferred, fTo:
		return "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', ':' or '-'"
	case fPartner, fCategory, fPlan, fAction:
		return "must be 1 to 32 characters of a-z, 0-9, '_' or '-'"
	case fReason:
		return fmt.Sprintf("must be at most %d bytes", maxReasonLen)
	case fAmount:
		return "must be an integer from 1 to 10^12"
	case fPoints:
		if c.Type == TypeAdjust {
			return "must be a non-zero integer from -10^15 to 10^15"
		}
		return "must be an integer from 1 to 10^15"
	case fTimeout:
		return fmt.Sprintf("must be an integer from 1 to %d", maxTimeoutS)
	case fAt:
		return "must be an RFC 3339 time such as 2026-03-01T12:00:00Z"
	}
	return "is ill-formed"
}

// fieldList names the fields the command's type takes.
func (c *Command) fieldList() string {
	if c.Type == TypeNone {
		return "a command has the fields of its type (SPEC §5)"
	}
	all := requiredFields[c.Type] | optionalFields[c.Type]
	var names []string
	for i, n := range fieldNames {
		if all&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return fmt.Sprintf("a %s takes %s", c.Type, strings.Join(names, ", "))
}

// keyAt returns the raw key of the JSON string that starts at line[at].
func keyAt(line []byte, at int) string {
	if at < 0 || at >= len(line) || line[at] != '"' {
		return ""
	}
	for i := at + 1; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			return string(line[at+1 : i])
		}
	}
	return string(line[at+1:])
}

// excerpt returns up to 16 bytes of line from at.
func excerpt(line []byte, at int) string {
	at = min(max(at, 0), len(line))
	return string(line[at:min(at+16, len(line))])
}
