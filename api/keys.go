package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"github.com/accrual/accrual/engine"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Role is what an API key may do.
type Role uint8

// Roles. The zero Role authorises nothing.
const (
	RoleNone     Role = iota
	RoleOperator      // everything
	RolePartner       // its own partner's commands, its settlement, reads of members
	RoleReadonly      // GET only
)

func (r Role) String() string {
	switch r {
	case RoleOperator:
		return "operator"
	case RolePartner:
		return "partner"
	case RoleReadonly:
		return "readonly"
	}
	return "none"
}

// Key is one entry of a keys file.
type Key struct {
	Key     string `yaml:"key" json:"key"`
	Role    string `yaml:"role" json:"role"`
	Partner string `yaml:"partner,omitempty" json:"partner,omitempty"`
}

type keyEntry struct {
	hash    [sha256.Size]byte
	role    Role
	partner string
}

// Keys is a set of API keys. Only SHA-256 digests of the keys are kept.
type Keys struct {
	entries []keyEntry
}

// Principal is the authenticated caller of a request.
type Principal struct {
	Role    Role
	Partner string // for RolePartner
}

// NewKeys validates and indexes key entries.
func NewKeys(list []Key) (*Keys, error) {
	k := &Keys{}
	seen := map[[sha256.Size]byte]bool{}
	for i, e := range list {
		if len(e.Key) < 16 {
			return nil, fmt.Errorf("keys[%d]: key shorter than 16 bytes", i)
		}
		var role Role
		switch e.Role {
		case "operator":
			role = RoleOperator
		case "partner":
			role = RolePartner
			if !validPartner([]byte(e.Partner)) {
				return nil, fmt.Errorf("keys[%d]: role partner needs a valid partner id", i)
			}
		case "readonly":
			role = RoleReadonly
		default:
			return nil, fmt.Errorf("keys[%d]: role %q is not operator, partner or readonly", i, e.Role)
		}
		if role != RolePartner && e.Partner != "" {
			return nil, fmt.Errorf("keys[%d]: partner is only for role partner", i)
		}
		h := sha256.Sum256([]byte(e.Key))
		if seen[h] {
			return nil, fmt.Errorf("keys[%d]: duplicate key", i)
		}
		seen[h] = true
		k.entries = append(k.entries, keyEntry{hash: h, role: role, partner: e.Partner})
	}
	return k, nil
}

// ParseKeys reads a keys document, YAML or JSON: either a list of
// {key, role, partner} or an object {keys: [...]}.
func ParseKeys(src []byte) (*Keys, error) {
	var list []Key
	if err := yaml.Unmarshal(src, &list); err != nil {
		var doc struct {
			Keys []Key `yaml:"keys"`
		}
		if err2 := yaml.Unmarshal(src, &doc); err2 != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		list = doc.Keys
	}
	return NewKeys(list)
}

// LoadKeys reads a keys file.
func LoadKeys(path string) (*Keys, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := ParseKeys(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// GenerateKey returns a fresh random key (256 bits, URL-safe base64 with an
// "acc_" prefix).
func GenerateKey() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return "acc_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Lookup authenticates a presented key. It hashes the key and compares the
// digest with every entry in constant time, without stopping early, so the
// time taken depends on neither which key matched nor where they differ.
func (k *Keys) Lookup(presented []byte) (Principal, bool) {
	if k == nil || len(presented) == 0 {
		return Principal{}, false
	}
	h := sha256.Sum256(presented)
	found := -1
	for i := range k.entries {
		if subtle.ConstantTimeCompare(h[:], k.entries[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Principal{}, false
	}
	e := &k.entries[found]
	return Principal{Role: e.role, Partner: e.partner}, true
}

// Len returns the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.entries)
}

// presentedKey extracts the key from "Authorization: Bearer KEY" or
// "X-API-Key: KEY".
func presentedKey(authz, xkey []byte) []byte {
	if len(authz) > 7 && strings.EqualFold(string(authz[:7]), "bearer ") {
		return trimSpace(authz[7:])
	}
	return trimSpace(xkey)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// The id checks are SPEC §1's, shared with the engine's decoder.
var (
	validPartner = engine.ValidPartner
	validMember  = engine.ValidMember
	validID      = engine.ValidID
)
