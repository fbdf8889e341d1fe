package api

import (
	"bytes"
	"encoding/json"
	"errors"

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
		writeError(ctx, fasthttp.StatusNotImplemented, "not_implemented", "this backend has no cluster to change")
		return
	}
	var req clusterRequest
	if body := ctx.PostBody(); len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid", "body must be {\"id\", \"raft_addr\", \"http_addr\"}: "+err.Error())
			return
		}
	}
	var err error
	switch op {
	case "join":
		if req.ID == "" || req.RaftAddr == "" {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid", "join needs id and raft_addr")
			return
		}
		err = admin.AddVoter(req.ID, req.RaftAddr, req.HTTPAddr)
	case "remove":
		if req.ID == "" {
			writeError(ctx, fasthttp.StatusBadRequest, "invalid", "remove needs id")
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
			writeErrorLeader(ctx, fasthttp.StatusMisdirectedRequest, "not_leader", "this node is not the leader", nl.LeaderHTTPAddr())
			return
		}
		writeError(ctx, fasthttp.StatusServiceUnavailable, "cluster_change_failed", err.Error())
		return
	}
	s.writeJSON(ctx, s.b.Status())
}
