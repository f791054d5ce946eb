package node

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// Version is the software version nodes advertise in gossip.
const Version = "0.1.0"

// Config describes one node. Zero values get the defaults of a
// one-machine install (DefaultConfig): everything on 127.0.0.1, the API
// on port 8080. Server and Robot have no default here: false is false.
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
	// JoinTokenFile holds the join token when JoinToken is empty. A first
	// join waits for it to appear (up to the join timeout), so joiners
	// may be launched before the first node has written it.
	JoinTokenFile string
	// Server makes this node hold Raft state (a voter or non-voter).
	Server bool
	// Robot makes this node run jobs.
	Robot           bool
	Voters          int
	DeadServerGrace time.Duration
	// SnapshotEntries is consensus.Config.SnapshotEntries.
	SnapshotEntries int
	Tags            []string
	Capacity        int
	// WorkDir is where the robot's workflows resolve relative paths.
	WorkDir string
	// MetricsPublic serves /metrics without a credential.
	MetricsPublic bool
	// CORSOrigin is the one origin whose pages may call the API.
	CORSOrigin string
	// TLSCert and TLSKey are PEM files; with both, the API is served
	// over HTTPS only.
	TLSCert, TLSKey string
	// NodeTypes limits the node types the LAN robot runs; FileRoot
	// confines its file nodes to one directory (see executor).
	NodeTypes executor.NodePolicy
	FileRoot  string
	// PprofAddr is the loopback address `casare node` serves
	// net/http/pprof on ("" is off); the node itself does not read it.
	PprofAddr string
	// HTTPTimeouts bound the API server's connections; zero fields take
	// api.DefaultTimeouts.
	HTTPTimeouts api.Timeouts
	// MaxLogFollowers caps concurrent log streams (0: the API's default).
	MaxLogFollowers int
	// ArchiveURL is the Postgres archive's URL; empty means no archive.
	ArchiveURL string
	// Retention is how long finished jobs stay in Raft (and, with an
	// archive, only once archived); 0 is consensus.DefaultRetention,
	// negative keeps them for good.
	Retention time.Duration
	Logger    *slog.Logger
	// BootstrapOut receives the note a first start prints for the
	// operator (where the join token is, how to add a node); nil: none.
	BootstrapOut io.Writer
}

// Defaults of a one-machine install. DefaultConfig and setDefaults take
// them from here, and the flags of `casare node` show DefaultConfig.
const (
	DefaultDataDir = "casare-data"
	// DefaultBindAddr keeps every listener on loopback until the API is
	// authenticated.
	DefaultBindAddr   = "127.0.0.1"
	DefaultHTTPPort   = 8080
	DefaultRaftPort   = 7100
	DefaultGossipPort = 7200
	DefaultQUICPort   = 7300
	// DefaultCapacity is how many jobs a robot runs at once: enough to
	// overlap jobs that wait on I/O, few enough for browser jobs on a
	// desktop-sized machine.
	DefaultCapacity = 4
)

// DefaultConfig is a one-machine install: a server that runs a robot,
// with every default filled in except Name (the CLI uses the host name).
func DefaultConfig() Config {
	return Config{
		DataDir: DefaultDataDir, BindAddr: DefaultBindAddr,
		HTTPPort: DefaultHTTPPort, RaftPort: DefaultRaftPort, GossipPort: DefaultGossipPort, QUICPort: DefaultQUICPort,
		Server: true, Robot: true,
		Voters: consensus.DefaultVoters, DeadServerGrace: consensus.DefaultDeadServerGrace,
		Capacity: DefaultCapacity,
	}
}

// setDefaults fills the zero fields that have a default, from
// DefaultConfig; Server and Robot are taken as given.
func (c *Config) setDefaults() error {
	if c.Name == "" {
		return errors.New("node name is empty")
	}
	// Checked before anything starts: a robot-only node that fails later
	// would already have joined and been issued a certificate.
	if c.ArchiveURL != "" && !c.Server {
		return errors.New("--archive-url is set on a robot-only node (--server=false): only servers archive; set it on the servers")
	}
	d := DefaultConfig()
	c.DataDir = cmp.Or(c.DataDir, d.DataDir)
	c.BindAddr = cmp.Or(c.BindAddr, d.BindAddr)
	c.ClusterBindAddr = cmp.Or(c.ClusterBindAddr, c.BindAddr)
	c.QUICBindAddr = cmp.Or(c.QUICBindAddr, c.BindAddr)
	c.AdvertiseAddr = cmp.Or(c.AdvertiseAddr, c.ClusterBindAddr)
	if ip := net.ParseIP(c.AdvertiseAddr); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("advertise address %s is unspecified: peers cannot dial it; set --advertise to a routable address", c.AdvertiseAddr)
	}
	c.HTTPPort = cmp.Or(c.HTTPPort, d.HTTPPort)
	c.RaftPort = cmp.Or(c.RaftPort, d.RaftPort)
	c.GossipPort = cmp.Or(c.GossipPort, d.GossipPort)
	c.QUICPort = cmp.Or(c.QUICPort, d.QUICPort)
	c.Voters = cmp.Or(c.Voters, d.Voters)
	c.DeadServerGrace = cmp.Or(c.DeadServerGrace, d.DeadServerGrace)
	if c.Capacity <= 0 {
		c.Capacity = d.Capacity
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("HTTPS needs both --tls-cert and --tls-key")
	}
	return c.checkRobotPolicy()
}

// checkRobotPolicy refuses a node-type policy naming an unknown type and
// a file root that is not a directory, before anything starts.
func (c *Config) checkRobotPolicy() error {
	if err := c.NodeTypes.Check(); err != nil {
		return fmt.Errorf("robot node types: %w", err)
	}
	if c.FileRoot != "" {
		root, err := executor.ResolveFileRoot(c.FileRoot)
		if err != nil {
			return fmt.Errorf("robot: %w", err)
		}
		c.FileRoot = root
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
