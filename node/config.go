package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"
)

// Version is the software version nodes advertise in gossip.
const Version = "0.1.0"

// Config describes one node. Zero values get the defaults of a one-machine
// install: everything on 127.0.0.1, the API on port 8080.
type Config struct {
	Name    string
	DataDir string
	// BindAddr is the interface the API listens on (default 127.0.0.1).
	BindAddr string
	// ClusterBindAddr is the interface of the cluster port (Raft and
	// internal endpoints, mutual TLS) and of gossip; default BindAddr.
	ClusterBindAddr string
	// QUICBindAddr is the interface of the internet robots' gateway;
	// default BindAddr.
	QUICBindAddr string
	// AdvertiseAddr is the address peers dial for Raft, gossip and
	// internal calls; it defaults to ClusterBindAddr and may not be
	// unspecified (0.0.0.0). The API and QUIC addresses advertised are
	// their bind addresses, or AdvertiseAddr when those are unspecified.
	AdvertiseAddr string
	HTTPPort      int
	RaftPort      int
	GossipPort    int
	QUICPort      int
	// Join is the HTTP address (host:port) of any member of the cluster
	// to join. Empty means bootstrap a new cluster.
	Join string
	// JoinToken admits a first join (ParseJoinToken's format). A restart
	// uses the certificate in DataDir and ignores it.
	JoinToken string
	// Server makes this node hold Raft state (a voter or non-voter).
	Server bool
	// Robot makes this node run jobs.
	Robot           bool
	Voters          int
	DeadServerGrace time.Duration
	Tags            []string
	Capacity        int
	// WorkDir is where the robot's workflows resolve relative paths.
	WorkDir string
	Logger  *slog.Logger
}

// Default ports of a one-machine install.
const (
	DefaultHTTPPort   = 8080
	DefaultRaftPort   = 7100
	DefaultGossipPort = 7200
	DefaultQUICPort   = 7300
)

func (c *Config) setDefaults() error {
	if c.Name == "" {
		return errors.New("node name is empty")
	}
	if c.DataDir == "" {
		c.DataDir = "casare-data"
	}
	if c.BindAddr == "" {
		c.BindAddr = "127.0.0.1"
	}
	if c.ClusterBindAddr == "" {
		c.ClusterBindAddr = c.BindAddr
	}
	if c.QUICBindAddr == "" {
		c.QUICBindAddr = c.BindAddr
	}
	if c.AdvertiseAddr == "" {
		c.AdvertiseAddr = c.ClusterBindAddr
	}
	if ip := net.ParseIP(c.AdvertiseAddr); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("advertise address %s is unspecified: peers cannot dial it; set --advertise to a routable address", c.AdvertiseAddr)
	}
	if c.HTTPPort == 0 {
		c.HTTPPort = DefaultHTTPPort
	}
	if c.RaftPort == 0 {
		c.RaftPort = DefaultRaftPort
	}
	if c.GossipPort == 0 {
		c.GossipPort = DefaultGossipPort
	}
	if c.QUICPort == 0 {
		c.QUICPort = DefaultQUICPort
	}
	if c.Capacity <= 0 {
		c.Capacity = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func (c *Config) bind(port int) string { return net.JoinHostPort(c.BindAddr, strconv.Itoa(port)) }
func (c *Config) advertise(port int) string {
	return net.JoinHostPort(c.AdvertiseAddr, strconv.Itoa(port))
}

// Listener addresses: each bound separately, each advertised as its bind
// address unless that is unspecified.
func (c *Config) clusterBind() string {
	return net.JoinHostPort(c.ClusterBindAddr, strconv.Itoa(c.RaftPort))
}
func (c *Config) quicBind() string { return net.JoinHostPort(c.QUICBindAddr, strconv.Itoa(c.QUICPort)) }
func (c *Config) httpAdvertise() string {
	return net.JoinHostPort(c.routable(c.BindAddr), strconv.Itoa(c.HTTPPort))
}
func (c *Config) quicAdvertise() string {
	return net.JoinHostPort(c.routable(c.QUICBindAddr), strconv.Itoa(c.QUICPort))
}

func (c *Config) routable(bind string) string {
	if ip := net.ParseIP(bind); ip != nil && ip.IsUnspecified() {
		return c.AdvertiseAddr
	}
	return bind
}

func (c *Config) roles() []string {
	var roles []string
	if c.Server {
		roles = append(roles, "server")
	}
	if c.Robot {
		roles = append(roles, "robot")
	}
	return roles
}
