package mesh

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
)

// Tombstone defaults: a day is long enough for a leader elected overnight
// to see which robots died, and 4096 is far above a LAN fleet's daily churn
// while costing well under a megabyte.
const (
	DefaultTombstoneTTL  = 24 * time.Hour
	DefaultMaxTombstones = 4096
)

// Config configures a Mesh.
type Config struct {
	// Name identifies the node; it must be unique in the cluster and stay
	// the same across restarts.
	Name string

	// BindAddr is the IP address to listen on for gossip (UDP and TCP);
	// "" means all interfaces. BindPort 0 picks a free port.
	BindAddr string
	BindPort int

	// AdvertiseAddr is the IP address peers reach this node at. It
	// defaults to BindAddr and must not be unspecified (0.0.0.0 or ::):
	// an unroutable advertised address breaks every peer that stores it.
	// AdvertisePort defaults to the bound port.
	AdvertiseAddr string
	AdvertisePort int

	// Meta is what this node advertises; see UpdateMeta to change it.
	Meta Meta

	// Logger receives the mesh's and memberlist's logs; nil means
	// slog.Default().
	Logger *slog.Logger

	// Timing tunes failure detection; zero fields take LANTiming's values.
	Timing Timing

	// TombstoneTTL and MaxTombstones bound how long and how many dead and
	// left members are remembered; zero means DefaultTombstoneTTL and
	// DefaultMaxTombstones.
	TombstoneTTL  time.Duration
	MaxTombstones int

	// Reconnect configures how dead members are retried; see Reconnect.
	Reconnect Reconnect

	// Keyring encrypts and authenticates every gossip message (AES-GCM,
	// memberlist's keyring): a member without one of its keys can
	// neither read the cluster's gossip nor join it. nil means plain
	// gossip, for tests of the gossip layer alone.
	Keyring *memberlist.Keyring

	// wrapTransport, when set, wraps memberlist's network transport;
	// tests use it to cut a node off and heal it again.
	wrapTransport func(memberlist.Transport) memberlist.Transport
}

// resolve validates cfg and fills in its defaults.
func (cfg Config) resolve() (Config, error) {
	if cfg.Name == "" {
		return cfg, errors.New("mesh: Config.Name is required and must be unique in the cluster")
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = "0.0.0.0"
	}
	if cfg.AdvertiseAddr == "" {
		cfg.AdvertiseAddr = cfg.BindAddr
	}
	ip := net.ParseIP(cfg.AdvertiseAddr)
	if ip == nil {
		return cfg, fmt.Errorf("mesh: advertise address %q is not an IP address", cfg.AdvertiseAddr)
	}
	if ip.IsUnspecified() {
		return cfg, fmt.Errorf("mesh: advertise address %s is unspecified, so peers could not reach this node; set Config.AdvertiseAddr to a routable IP",
			cfg.AdvertiseAddr)
	}
	for _, p := range []struct {
		name string
		port int
	}{{"BindPort", cfg.BindPort}, {"AdvertisePort", cfg.AdvertisePort}} {
		if p.port < 0 || p.port > 65535 {
			return cfg, fmt.Errorf("mesh: %s %d is not a valid port", p.name, p.port)
		}
	}
	switch {
	case cfg.AdvertisePort == 0:
		cfg.AdvertisePort = cfg.BindPort
	case cfg.BindPort == 0:
		// memberlist overwrites the advertised port with the one it picks.
		return cfg, fmt.Errorf("mesh: AdvertisePort %d needs a fixed BindPort", cfg.AdvertisePort)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Timing = cfg.Timing.withDefaults()
	if cfg.TombstoneTTL <= 0 {
		cfg.TombstoneTTL = DefaultTombstoneTTL
	}
	if cfg.MaxTombstones <= 0 {
		cfg.MaxTombstones = DefaultMaxTombstones
	}
	if cfg.Reconnect.Interval == 0 {
		cfg.Reconnect.Interval = DefaultReconnectInterval
	}
	return cfg, nil
}
