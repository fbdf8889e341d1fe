package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/accrual/accrual/api/wire"
	"github.com/valyala/fasthttp"
)

// ClusterAdmin is implemented by a Backend that can change cluster
// membership (the Raft node does); the /v1/cluster/{join,remove,
// transfer-leadership} routes answer 501 otherwise.
type ClusterAdmin interface {
	AddVoter(id, raftAddr, httpAddr string) error
	RemoveServer(id string) error
	TransferLeadership() error
}

// StateHasher is implemented by a Backend that can hash its replicated
// state at a log index (the Raft node does); GET /v1/cluster/state-hash
// answers 501 otherwise.
type StateHasher interface {
	StateHashAt(ctx context.Context, at uint64) (hash, index uint64, err error)
}

// stateHashWaitMS bounds how long GET /v1/cluster/state-hash waits for the
// node to apply the index asked for.
const stateHashWaitMS = 60_000

// stateHash serves GET /v1/cluster/state-hash?at=N: the digest of the
// engine state right after the first applied log at or above N. Asked of
// every replica with the same N, it compares their states at one index
// while writes go on. Applies stall while the state is hashed, so it is an
// operator's (or a checker's) tool, not a monitoring probe.
func (s *Server) stateHash(ctx *fasthttp.RequestCtx, p Principal) {
	if p.Role == RolePartner {
		forbidden(ctx, "the state hash needs an operator or readonly key")
		return
	}
	h, ok := s.b.(StateHasher)
	if !ok {
		writeError(ctx, wire.NotImplemented, "this backend has no replicated state to hash")
		return
	}
	at, err := strconv.ParseUint(string(ctx.QueryArgs().Peek("at")), 10, 64)
	if err != nil {
		writeError(ctx, wire.Invalid, "at must be a log index (a non-negative integer)")
		return
	}
	c, cancel := context.WithTimeout(context.Background(), stateHashWaitMS*time.Millisecond)
	defer cancel()
	hash, index, err := h.StateHashAt(c, at)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		writeError(ctx, wire.Timeout, fmt.Sprintf("index %d was not applied within %d ms", at, stateHashWaitMS))
	case err != nil:
		writeError(ctx, wire.Unavailable, err.Error())
	default:
		s.writeJSON(ctx, struct {
			Index     uint64 `json:"index"`
			StateHash string `json:"state_hash"`
		}{index, fmt.Sprintf("%016x", hash)})
	}
}

type clusterRequest struct {
	ID       string `json:"id"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
}

// clusterAdmin serves POST /v1/cluster/join|remove|transfer-leadership,
// operator keys only. Membership changes go to the leader: a follower
// answers like any write it cannot take (421 naming the leader).
func (s *Server) clusterAdmin(ctx *fasthttp.RequestCtx, p Principal, op string) {
	if p.Role != RoleOperator {
		forbidden(ctx, "cluster changes need an operator key")
		return
	}
	admin, ok := s.b.(ClusterAdmin)
	if !ok {
		writeError(ctx, wire.NotImplemented, "this backend has no cluster to change")
		return
	}
	var req clusterRequest
	if body := ctx.PostBody(); len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(ctx, wire.Invalid, "body must be {\"id\", \"raft_addr\", \"http_addr\"}: "+err.Error())
			return
		}
	}
	var err error
	switch op {
	case "join":
		if req.ID == "" || req.RaftAddr == "" {
			writeError(ctx, wire.Invalid, "join needs id and raft_addr")
			return
		}
		err = admin.AddVoter(req.ID, req.RaftAddr, req.HTTPAddr)
	case "remove":
		if req.ID == "" {
			writeError(ctx, wire.Invalid, "remove needs id")
			return
		}
		err = admin.RemoveServer(req.ID)
	case "transfer-leadership":
		err = admin.TransferLeadership()
	default:
		notFound(ctx)
		return
	}
	if err != nil {
		var nl interface{ LeaderHTTPAddr() string }
		if errors.As(err, &nl) {
			writeErrorLeader(ctx, wire.NotLeader, wire.NotLeader.Sentence(), nl.LeaderHTTPAddr())
			return
		}
		writeError(ctx, wire.ClusterChangeFailed, err.Error())
		return
	}
	s.writeJSON(ctx, s.b.Status())
}
