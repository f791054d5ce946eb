package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/node"
)

// nodeEnvPrefix starts the environment variables that set a node:
// CASARE_NODE_HTTP_PORT sets http-port. The prefix cannot collide with the
// client's CASARE_SERVER and CASARE_TOKEN.
const nodeEnvPrefix = "CASARE_NODE_"

// errNodeSettings marks a bad node setting: an unknown key, a value of
// the wrong type, a config file that cannot be read.
var errNodeSettings = errors.New("bad node settings")

// nodeSettings are the settings of `casare node start` and `node join`.
// A setting has one key: the flag's name, the config file's key, and,
// upper-cased with '_' for '-' after nodeEnvPrefix, its environment
// variable.
type nodeSettings struct {
	Name            string        `koanf:"name"`
	DataDir         string        `koanf:"data-dir"`
	Bind            string        `koanf:"bind"`
	ClusterBind     string        `koanf:"cluster-bind"`
	QUICBind        string        `koanf:"quic-bind"`
	Advertise       string        `koanf:"advertise"`
	HTTPPort        int           `koanf:"http-port"`
	RaftPort        int           `koanf:"raft-port"`
	GossipPort      int           `koanf:"gossip-port"`
	QUICPort        int           `koanf:"quic-port"`
	Server          bool          `koanf:"server"`
	Robot           bool          `koanf:"robot"`
	Voters          int           `koanf:"voters"`
	DeadServerGrace time.Duration `koanf:"dead-server-grace"`
	Tags            []string      `koanf:"tags"`
	Capacity        int           `koanf:"capacity"`
	MetricsPublic   bool          `koanf:"metrics-public"`
	CORSOrigin      string        `koanf:"cors-origin"`
	TLSCert         string        `koanf:"tls-cert"`
	TLSKey          string        `koanf:"tls-key"`
	DenyNodeTypes   []string      `koanf:"deny-node-types"`
	AllowNodeTypes  []string      `koanf:"allow-node-types"`
	FileRoot        string        `koanf:"file-root"`
	ArchiveURL      string        `koanf:"archive-url"`
	Retention       time.Duration `koanf:"retention"`
	SnapshotEntries int           `koanf:"snapshot-entries"`
	Pprof           string        `koanf:"pprof"`
}

// nodeFlags holds the flags of one node command. The settings live in
// their own flag set, so that koanf reads exactly them and knows their
// names.
type nodeFlags struct {
	settings *pflag.FlagSet
	config   string
}

// newNodeFlags registers the node settings and --config on cmd's flags,
// with the defaults of node.DefaultConfig (the name defaults to host).
func newNodeFlags(flags *pflag.FlagSet, host string) *nodeFlags {
	d := node.DefaultConfig()
	f := pflag.NewFlagSet("node", pflag.ContinueOnError)
	f.String("name", host, "node name, unique in the cluster (also its Raft server id and LAN robot id)")
	f.String("data-dir", d.DataDir, "directory for Raft state and snapshots")
	f.String("bind", d.BindAddr, "address the REST API and dashboard listen on")
	f.String("cluster-bind", "", "address of the cluster port (Raft and internal calls, mutual TLS with node certificates) and of gossip (default: --bind)")
	f.String("quic-bind", "", "address the internet robots' QUIC gateway listens on (default: --bind)")
	f.String("advertise", "", "address peers use to reach this node's cluster port and gossip (default: --cluster-bind)")
	f.Int("http-port", d.HTTPPort, "REST API port")
	f.Int("raft-port", d.RaftPort, "cluster port: Raft and the internal endpoints, mutual TLS with node certificates")
	f.Int("gossip-port", d.GossipPort, "gossip (memberlist) port, TCP and UDP, encrypted with the cluster's gossip key")
	f.Int("quic-port", d.QUICPort, "QUIC port for internet robots")
	f.Bool("server", d.Server, "hold Raft state (false: a robot-only member)")
	f.Bool("robot", d.Robot, "run jobs on this node")
	f.Int("voters", d.Voters, "number of Raft voters the cluster keeps; automatic removal of dead servers never goes below it")
	f.Duration("dead-server-grace", d.DeadServerGrace, "how long gossip and Raft must both have failed to reach a server before the leader removes it from Raft (one removal per grace period, never below --voters; see 'casare operator remove-server')")
	f.StringSlice("tags", nil, "robot tags, comma separated")
	f.Int("capacity", d.Capacity, "jobs this node's robot runs at once")
	f.Bool("metrics-public", false, "serve /metrics without a token (default: a viewer token is needed)")
	f.String("cors-origin", "", "the one origin (https://host[:port]) whose web pages may call the API (default: none)")
	f.String("tls-cert", "", "PEM certificate (chain) to serve the API over HTTPS; needs --tls-key")
	f.String("tls-key", "", "PEM private key of --tls-cert")
	addRobotPolicyFlags(f)
	f.Duration("retention", consensus.DefaultRetention, "how long a finished job stays in the cluster's state (with --archive-url: only once archived; then it is read from the archive); negative keeps jobs for good")
	f.String("archive-url", "", "Postgres URL of the archive (postgres://user@host:5432/db?sslmode=disable; also "+archiveEnv+"): the leader archives finished jobs, logs, workflows and schedules there; search and statistics read it")
	f.Int("snapshot-entries", 0, "snapshot Raft state after this many entries and keep as many for lagging followers (0: Raft's defaults, 8192 and 10240); a follower further behind catches up from the snapshot")
	f.String("pprof", "", "serve Go's profiler (net/http/pprof) on this loopback address, e.g. 127.0.0.1:6060 (default: off)")
	flags.AddFlagSet(f)
	nf := &nodeFlags{settings: f}
	flags.StringVar(&nf.config, "config", "", "YAML file of node settings, keyed by flag name (flags and "+nodeEnvPrefix+"* variables override it)")
	return nf
}

// load merges the settings: a flag given on the command line wins over
// the environment, which wins over the config file, which wins over the
// defaults. environ is the process environment (os.Environ()).
func (nf *nodeFlags) load(environ []string) (node.Config, error) {
	k := koanf.New(".")
	if nf.config != "" {
		if err := loadConfigFile(k, nf.config, nf.known()); err != nil {
			return node.Config{}, err
		}
	}
	if err := loadArchiveEnv(k, environ); err != nil {
		return node.Config{}, err
	}
	if err := loadNodeEnv(k, environ, nf.known()); err != nil {
		return node.Config{}, err
	}
	// With k given, posflag takes a flag's default only for keys no
	// earlier source set, and a flag set on the command line always.
	if err := k.Load(posflag.Provider(nf.settings, ".", k), nil); err != nil {
		return node.Config{}, fmt.Errorf("%w: flags: %w", errNodeSettings, err)
	}
	s, err := decodeSettings(k)
	if err != nil {
		return node.Config{}, fmt.Errorf("%w: %s", errNodeSettings, err)
	}
	return s.config(), nil
}

// decodeSettings turns the merged keys into settings. It is also run on
// the file's and the environment's keys alone, so that a value of the
// wrong type is reported with its source.
func decodeSettings(k *koanf.Koanf) (nodeSettings, error) {
	var s nodeSettings
	err := k.UnmarshalWithConf("", &s, koanf.UnmarshalConf{DecoderConfig: &mapstructure.DecoderConfig{
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(), mapstructure.StringToSliceHookFunc(",")),
		// Environment values are strings: "8081" must fill an int.
		WeaklyTypedInput: true,
		Result:           &s,
		TagName:          "koanf",
	}})
	if err != nil {
		// mapstructure lists its errors on separate lines after a
		// heading; one line reads better in a CLI error.
		msg := strings.TrimPrefix(err.Error(), "decoding failed due to the following error(s):")
		return s, errors.New(strings.Join(strings.Fields(msg), " "))
	}
	return s, nil
}

// known lists the setting keys.
func (nf *nodeFlags) known() []string {
	var keys []string
	nf.settings.VisitAll(func(f *pflag.Flag) { keys = append(keys, f.Name) })
	return keys
}

func loadConfigFile(k *koanf.Koanf, path string, known []string) error {
	fk := koanf.New(".")
	if err := fk.Load(file.Provider(path), yaml.Parser()); err != nil {
		return fmt.Errorf("%w: config file %s: %w", errNodeSettings, path, err)
	}
	for _, key := range fk.Keys() {
		if !slices.Contains(known, key) {
			return fmt.Errorf("%w: config file %s: unknown key %q (known: %s)", errNodeSettings, path, key, strings.Join(known, ", "))
		}
	}
	if _, err := decodeSettings(fk); err != nil {
		return fmt.Errorf("%w: config file %s: %s", errNodeSettings, path, err)
	}
	return k.Merge(fk)
}

func loadNodeEnv(k *koanf.Koanf, environ []string, known []string) error {
	var unknown []string
	provider := env.Provider(".", env.Opt{
		Prefix:      nodeEnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(name, value string) (string, any) {
			key := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(name, nodeEnvPrefix)), "_", "-")
			if !slices.Contains(known, key) {
				unknown = append(unknown, name)
				return "", nil
			}
			return key, value
		},
	})
	ek := koanf.New(".")
	if err := ek.Load(provider, nil); err != nil {
		return fmt.Errorf("%w: environment: %w", errNodeSettings, err)
	}
	if len(unknown) > 0 {
		return fmt.Errorf("%w: unknown environment variable %s", errNodeSettings, strings.Join(unknown, ", "))
	}
	if _, err := decodeSettings(ek); err != nil {
		return fmt.Errorf("%w: environment (%s*): %s", errNodeSettings, nodeEnvPrefix, err)
	}
	return k.Merge(ek)
}

func (s nodeSettings) config() node.Config {
	return node.Config{
		Name: s.Name, DataDir: s.DataDir, BindAddr: s.Bind, AdvertiseAddr: s.Advertise,
		ClusterBindAddr: s.ClusterBind, QUICBindAddr: s.QUICBind,
		HTTPPort: s.HTTPPort, RaftPort: s.RaftPort, GossipPort: s.GossipPort, QUICPort: s.QUICPort,
		Server: s.Server, Robot: s.Robot, Voters: s.Voters, DeadServerGrace: s.DeadServerGrace,
		Tags: s.Tags, Capacity: s.Capacity, SnapshotEntries: s.SnapshotEntries,
		MetricsPublic: s.MetricsPublic, CORSOrigin: s.CORSOrigin, TLSCert: s.TLSCert, TLSKey: s.TLSKey,
		NodeTypes: executor.NodePolicy{Allow: s.AllowNodeTypes, Deny: s.DenyNodeTypes}, FileRoot: s.FileRoot,
		ArchiveURL: s.ArchiveURL, Retention: s.Retention, PprofAddr: s.Pprof,
	}
}

// archiveEnv is the archive URL's short variable, as the design names it;
// CASARE_NODE_ARCHIVE_URL, like every node setting's, wins over it.
const archiveEnv = "CASARE_ARCHIVE_URL"

// loadArchiveEnv reads archiveEnv into archive-url.
func loadArchiveEnv(k *koanf.Koanf, environ []string) error {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, archiveEnv+"="); ok && v != "" {
			if err := k.Set("archive-url", v); err != nil {
				return fmt.Errorf("%w: %s: %w", errNodeSettings, archiveEnv, err)
			}
		}
	}
	return nil
}
