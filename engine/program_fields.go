package engine

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Reading a program's YAML nodes strictly: known fields only, each once,
// with the type and range SPEC §2 gives it, and errors naming the field.

type fields struct {
	path string
	m    map[string]*yaml.Node
}

func mapping(n *yaml.Node, path string, allowed ...string) (*fields, error) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, perr(pathOr(path), "must be a mapping")
	}
	f := &fields{path: path, m: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		ok := false
		for _, a := range allowed {
			if a == k {
				ok = true
				break
			}
		}
		if !ok {
			return nil, perr(join(path, k), "unknown field")
		}
		if _, dup := f.m[k]; dup {
			return nil, perr(join(path, k), "appears twice")
		}
		v := n.Content[i+1]
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		f.m[k] = v
	}
	return f, nil
}

func pathOr(p string) string {
	if p == "" {
		return "(top level)"
	}
	return p
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func (f *fields) has(k string) bool { _, ok := f.m[k]; return ok }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (f *fields) str(k string, def string, required bool) (string, error) {
	n, ok := f.m[k]
	if !ok || isNull(n) {
		if required {
			return "", perr(join(f.path, k), "is required")
		}
		return def, nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!map" || n.Tag == "!!seq" {
		return "", perr(join(f.path, k), "must be a string")
	}
	return n.Value, nil
}

func (f *fields) int(k string, def int64, lo, hi int64) (int64, error) {
	n, ok := f.m[k]
	if !ok || isNull(n) {
		return def, nil
	}
	p := join(f.path, k)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, perr(p, "must be an integer")
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, perr(p, "must be a decimal integer")
	}
	if v < lo || v > hi {
		return 0, perr(p, "must be within %d … %d, not %d", lo, hi, v)
	}
	return v, nil
}

func (f *fields) time(k string) (int64, error) {
	n, ok := f.m[k]
	p := join(f.path, k)
	if !ok || isNull(n) {
		return 0, perr(p, "is required")
	}
	if n.Kind != yaml.ScalarNode {
		return 0, perr(p, "must be an RFC 3339 timestamp")
	}
	t, good := parseRFC3339([]byte(n.Value))
	if !good {
		return 0, perr(p, "must be an RFC 3339 timestamp, not %q", n.Value)
	}
	return t, nil
}

func (f *fields) strList(k string) ([]string, error) {
	n, ok := f.m[k]
	if !ok || isNull(n) {
		return nil, nil
	}
	p := join(f.path, k)
	if n.Kind != yaml.SequenceNode {
		return nil, perr(p, "must be a list")
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		if c.Kind != yaml.ScalarNode || isNull(c) {
			return nil, perr(fmt.Sprintf("%s[%d]", p, i), "must be a string")
		}
		out = append(out, c.Value)
	}
	return out, nil
}

func (f *fields) list(k string) ([]*yaml.Node, error) {
	n, ok := f.m[k]
	if !ok || isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, perr(join(f.path, k), "must be a list")
	}
	return n.Content, nil
}

func parseRate(n *yaml.Node, path string) (Rate, error) {
	f, err := mapping(n, path, "points", "per")
	if err != nil {
		return Rate{}, err
	}
	if !f.has("points") {
		return Rate{}, perr(join(path, "points"), "is required")
	}
	if !f.has("per") {
		return Rate{}, perr(join(path, "per"), "is required")
	}
	pts, err := f.int("points", 0, -1<<63, 1<<63-1)
	if err != nil {
		return Rate{}, err
	}
	per, err := f.int("per", 0, -1<<63, 1<<63-1)
	if err != nil {
		return Rate{}, err
	}
	if pts < 0 {
		return Rate{}, perr(join(path, "points"), "must not be negative")
	}
	if per <= 0 {
		return Rate{}, perr(join(path, "per"), "must be greater than 0")
	}
	if per <= (1<<63-1)/1000 && pts > 1000*per {
		return Rate{}, perr(join(path, "points"), "must be at most 1000 × per")
	}
	return Rate{Points: pts, Per: per}, nil
}

func parseCategoryRates(n *yaml.Node, path string) (map[string]Rate, error) {
	if n == nil || isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, perr(path, "must be a mapping of category to rate")
	}
	out := map[string]Rate{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		p := join(path, k)
		if !validToken(k, 32) {
			return nil, perr(p, "category must be 1–32 bytes of [a-z0-9_-]")
		}
		if _, dup := out[k]; dup {
			return nil, perr(p, "appears twice")
		}
		r, err := parseRate(n.Content[i+1], p)
		if err != nil {
			return nil, err
		}
		out[k] = r
	}
	return out, nil
}

func validToken(s string, max int) bool {
	if len(s) < 1 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
