package raft

import (
	"fmt"
	"net"
	"time"

	hraft "github.com/hashicorp/raft"
)

// newTransport builds the Raft transport as a stack of stream layers:
// TCP, then Config.Seams.Stream when set, then mutual TLS when
// cfg.RaftTLS is set, then the cluster-id hello (clusterid.go). Each layer
// wraps whatever is below it, so TLS secures the bytes a seam sees. The
// layer below the hello is returned too: clock probes (clocksample.go)
// dial it and speak the hello themselves.
func newTransport(cfg Config, ids *clusterID) (*hraft.NetworkTransport, hraft.StreamLayer, error) {
	adv, err := net.ResolveTCPAddr("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, nil, err
	}
	l, err := net.Listen("tcp", cfg.RaftAddr)
	if err != nil {
		return nil, nil, err
	}
	layer := wrap(cfg.Seams.Stream, hraft.StreamLayer(&tcpLayer{Listener: l, adv: advertised(l, adv)}))
	if cfg.RaftTLS != nil {
		layer = &tlsLayer{StreamLayer: layer, cfg: cfg.RaftTLS}
	}
	if a, ok := layer.Addr().(*net.TCPAddr); !ok || a.IP == nil || a.IP.IsUnspecified() {
		layer.Close()
		return nil, nil, fmt.Errorf("raft: %s is not an address peers can reach: give a host, not 0.0.0.0", layer.Addr())
	}
	return hraft.NewNetworkTransportWithConfig(&hraft.NetworkTransportConfig{
		Stream: &idLayer{StreamLayer: layer, ids: ids}, MaxPool: 3, Timeout: 10 * time.Second,
		Logger: cfg.Logger.Named("transport"),
	}), layer, nil
}

// advertised is the address peers reach this node at.
func advertised(l net.Listener, adv *net.TCPAddr) net.Addr {
	if adv != nil {
		return adv
	}
	return l.Addr()
}

// tcpLayer is plain TCP (hraft's own TCP stream layer is not exported).
type tcpLayer struct {
	net.Listener
	adv net.Addr
}

func (t *tcpLayer) Addr() net.Addr { return t.adv }

func (t *tcpLayer) Dial(address hraft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(address), timeout)
}
