package consensus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// Config says how to open a Store.
type Config struct {
	Name          string // node name; also the Raft server ID
	DataDir       string
	RaftBind      string // host:port to listen on
	RaftAdvertise string // routable host:port peers dial; defaults to RaftBind
	HTTPAddr      string // advertised API address, recorded for forwarding
	QUICAddr      string
	GossipAddr    string // advertised gossip address, recorded so peers can retry it
	// Bootstrap starts a new single-server cluster when DataDir holds no
	// Raft state. A restart on existing state ignores it, so the same
	// command line works for a first boot and for a restart.
	Bootstrap bool
	// Voters is how many voting servers the leader keeps (default
	// DefaultVoters).
	Voters int
	// DeadServerGrace is how long a server may be dead in gossip before
	// the leader removes it from the Raft configuration (default
	// DefaultDeadServerGrace).
	DeadServerGrace time.Duration
	Forwarder       Forwarder
	Liveness        Liveness
	// Stream, when set, carries Raft instead of a plain TCP listener on
	// RaftBind: nodes pass the mutual-TLS cluster port here
	// (clusternet.StreamLayer). Its Addr is the advertised address.
	Stream raft.StreamLayer
	// Duties run on the leader beside the built-in ones (the archive).
	Duties []LeaderDuty
	// Archives says this server archives when it leads (one of Duties is
	// the archiver). A leader that does not stops the replicas keeping
	// log lines for an archive (archive_logs.go).
	Archives bool
	// Retention is how long a finished job stays in the state (default
	// DefaultRetention; negative keeps jobs for good).
	Retention time.Duration
	// RetainUntil, when set, returns the Raft index up to which finished
	// jobs may be removed (the archive's position) and the restore id
	// (Store.RestoreID) that index counts in: after a restore, a position
	// of the state before it bounds nothing. Nil: no such bound.
	RetainUntil func() (restoreID string, index uint64)
	// VaultPusher hands vault keys to other servers during a rotation.
	VaultPusher VaultPusher
	Logger      *slog.Logger
	// Raft timing; zero values get LAN defaults.
	HeartbeatTimeout time.Duration
	ElectionTimeout  time.Duration
	// NoLeaderWait is how long a write or consistent read waits for a
	// leader once it finds none before it fails with CodeNoLeader
	// (default 3 × ElectionTimeout; see setDefaults).
	NoLeaderWait time.Duration
	// ProgressInterval is the least time between two entries of merged
	// robot heartbeats from this node (default HeartbeatInterval): with
	// any number of robots, their lease renewals and checkpoints cost one
	// entry per interval.
	ProgressInterval time.Duration
	// SnapshotEntries, when set, snapshots after that many new entries
	// and keeps that many behind each snapshot for slow followers;
	// a follower further behind is sent the snapshot instead. Zero keeps
	// Raft's defaults (8192 and 10240).
	SnapshotEntries int
}

// Defaults of Config, shared with the flags of `casare node`.
const (
	// DefaultVoters keeps a majority through the loss of any one server
	// with the fewest servers that can.
	DefaultVoters = 3
	// DefaultDeadServerGrace is long enough for a server to restart or
	// ride out a short partition without losing its vote, short enough
	// that a dead one is replaced before a second failure could cost
	// the quorum.
	DefaultDeadServerGrace = 30 * time.Second
)

// Forwarder carries requests a follower cannot serve to the leader.
type Forwarder interface {
	// Apply sends an encoded command to the leader and returns the JSON
	// of the value it produced, or the *Error it returned.
	Apply(ctx context.Context, leader NodeInfo, cmd []byte) ([]byte, error)
	// ReadIndex asks the leader for an index that covers every write
	// acknowledged so far.
	ReadIndex(ctx context.Context, leader NodeInfo) (uint64, error)
	// Join asks the leader to add a server.
	Join(ctx context.Context, leader NodeInfo, req JoinRequest) (JoinResponse, error)
	// Remove asks the leader to remove a server.
	Remove(ctx context.Context, leader NodeInfo, req RemoveRequest) (RemoveResponse, error)
}

// Liveness tells the leader what gossip knows of a member.
type Liveness interface {
	// MemberState returns "alive", "suspect", "dead" or "left" and since
	// when, or ok=false for a name gossip has never seen.
	MemberState(name string) (state string, since time.Time, ok bool)
}

// Store is one node's replica of the cluster state. Store itself holds
// the Raft plumbing (opening, applying and forwarding commands, the
// leader's loop); what callers do with the state is split by concern
// into the types it embeds (parts.go), whose methods are Store's.
type Store struct {
	Catalog
	JobQueue
	RobotQueue
	Scheduler
	Credentials
	Membership
	Replica
	Vault

	cfg       Config
	log       *slog.Logger
	fsm       *fsm
	raft      *raft.Raft
	transport *quietTransport // raft's network transport without repeated empty appends
	boltStore *raftboltdb.BoltStore
	logs      raft.LogStore // the log cache over boltStore that Raft uses
	// reads proves leadership for read indexes in the term in which this
	// node, as leader, committed the barrier of startDuties: from then on
	// its commit index covers every earlier leader's commits, and reads
	// use the read index (leaderproof.go). Nil before a first term.
	reads atomic.Pointer[termReads]

	notify   chan bool
	hadState bool
	crons    cronCache
	submits  *groupCommit[[][]JobSpec, submitAnswer]
	// announcer wakes the robots waiting here when, as leader, this node
	// hands Raft a submit (announce.go).
	announcer announcer
	robots    robotGroups
	watch     *raftWatch
	reap      reapState // the leader's server-reaping duty
	stop      context.CancelFunc
	bg        sync.WaitGroup // the leader loop and the Raft watcher
	closeMu   sync.Once
	// lastIndexAtOpen is the last entry in the log store that changes the
	// state machine, when it opened.
	lastIndexAtOpen uint64
	catchUp         catchUp
	vault           *keyring // this server's vault keys (vault.go)
	timings         *timings // where writes spend their time (timings.go)
}

// leaderLease is raft's LeaderLeaseTimeout: a leader that has not heard
// from a quorum for this long steps down, and a read heartbeat round
// (leaderproof.go) gives up after it.
func (c *Config) leaderLease() time.Duration { return c.HeartbeatTimeout / 2 }

func (c *Config) setDefaults() error {
	if c.Name == "" || c.DataDir == "" || c.RaftBind == "" {
		return errors.New("consensus config needs Name, DataDir and RaftBind")
	}
	if c.RaftAdvertise == "" {
		c.RaftAdvertise = c.RaftBind
	}
	host, _, err := net.SplitHostPort(c.RaftAdvertise)
	if err != nil {
		return fmt.Errorf("raft advertise address %q: %w", c.RaftAdvertise, err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("raft advertise address %q is unspecified; peers cannot dial it, give a routable address", c.RaftAdvertise)
	}
	if c.Voters <= 0 {
		c.Voters = DefaultVoters
	}
	if c.DeadServerGrace <= 0 {
		c.DeadServerGrace = DefaultDeadServerGrace
	}
	if c.Retention == 0 {
		c.Retention = DefaultRetention
	}
	if c.HeartbeatTimeout <= 0 {
		c.HeartbeatTimeout = 500 * time.Millisecond
	}
	if c.ElectionTimeout <= 0 {
		c.ElectionTimeout = 500 * time.Millisecond
	}
	if c.NoLeaderWait <= 0 {
		// How long a follower that has noticed its leader is gone can stay
		// without one in an ordinary election: its first pre-vote fails
		// when the other followers have not noticed yet (their heartbeat
		// timeouts are randomized too), and its next try comes after a
		// candidate timeout drawn from [ElectionTimeout, 2 × ElectionTimeout).
		// So a leader is normally known within 2 × ElectionTimeout; half
		// an election timeout more absorbs a loaded machine (1.5 s with
		// the defaults). Waiting longer only keeps a cut-off node's
		// callers hanging; waiting less turns ordinary failovers into
		// errors on the majority side.
		c.NoLeaderWait = 3 * c.ElectionTimeout
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = HeartbeatInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Open starts Raft on cfg.DataDir, bootstrapping a cluster if asked to
// and there is no state yet.
func Open(cfg Config) (*Store, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	s := newStore(cfg, cfg.Logger.With("part", "consensus"), newFSM())
	s.fsm.log = s.log.With("part", "fsm")
	ring, err := openKeyring(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s.vault = ring
	if err := s.openRaft(); err != nil {
		s.closeResources()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.submits = newSubmitBatcher(ctx, s.submitGroups, s.timings.forwardWait)
	s.robots = newRobotGroups(ctx, s, cfg.ProgressInterval)
	s.bg.Go(func() { s.watch.run(ctx) })
	s.bg.Go(func() { s.leaderLoop(ctx) })
	s.startCatchUp(ctx, s.lastIndexAtOpen)
	return s, nil
}

func (s *Store) raftConfig(notify chan bool) *raft.Config {
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(s.cfg.Name)
	rc.HeartbeatTimeout = s.cfg.HeartbeatTimeout
	rc.ElectionTimeout = s.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = s.cfg.leaderLease()
	rc.CommitTimeout = 5 * time.Millisecond
	// hashicorp/raft makes a slice of MaxAppendEntries pointers for every
	// AppendEntries, empty ones included: at 512 that was 18% of an idle
	// leader's profile samples in the fleet bench (two followers, a commit
	// tick each 5–10 ms). Submits, claims and reports are merged before
	// they reach Raft, so a batch of applies usually holds a few entries;
	// only many servers' forwards at once or a burst of unmerged writes
	// (robots connecting, API writes) fill one, which then costs a second
	// log write, not an error.
	rc.MaxAppendEntries = 64
	rc.BatchApplyCh = true
	rc.NotifyCh = notify
	if n := s.cfg.SnapshotEntries; n > 0 {
		rc.SnapshotThreshold, rc.TrailingLogs = uint64(n), uint64(n)
		// Raft checks the threshold only this often (120 s by default);
		// someone who asks for small snapshots wants them taken while the
		// entries are still few. The check itself is a comparison.
		rc.SnapshotInterval = time.Second
	}
	rc.Logger = raftLogger(s.log, "raft")
	return rc
}

func (s *Store) openRaft() error {
	var advertise net.Addr
	if s.cfg.RaftAdvertise != s.cfg.RaftBind {
		addr, err := net.ResolveTCPAddr("tcp", s.cfg.RaftAdvertise)
		if err != nil {
			return fmt.Errorf("resolve raft advertise address: %w", err)
		}
		advertise = addr
	}
	var err error
	var nt *raft.NetworkTransport
	if s.cfg.Stream != nil {
		nt = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: s.cfg.Stream, MaxPool: 3, Timeout: 10 * time.Second,
			Logger: raftLogger(s.log, "raft-transport"),
		})
	} else if nt, err = raft.NewTCPTransportWithLogger(s.cfg.RaftBind, advertise, 3, 10*time.Second, raftLogger(s.log, "raft-transport")); err != nil {
		return fmt.Errorf("listen for raft on %s: %w", s.cfg.RaftBind, err)
	}
	s.transport = newQuietTransport(nt)
	// With port 0 the kernel picked the port; advertise what it picked.
	s.cfg.RaftAdvertise = string(s.transport.LocalAddr())
	s.boltStore, err = OpenLog(s.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("open raft log: %w", err)
	}
	var lastTerm uint64
	if s.lastIndexAtOpen, lastTerm, err = lastStateEntry(s.boltStore); err != nil {
		return fmt.Errorf("read raft log: %w", err)
	}
	s.fsm.replay = replayBound{index: s.lastIndexAtOpen, term: lastTerm}
	logStore, err := newLogCache(s.boltStore, logCacheEntries, logCacheBytes, s.timings.logWrite)
	if err != nil {
		return fmt.Errorf("create log cache: %w", err)
	}
	s.logs = logStore
	snaps, err := raft.NewFileSnapshotStoreWithLogger(s.cfg.DataDir, 2, raftLogger(s.log, "raft-snapshots"))
	if err != nil {
		return fmt.Errorf("open snapshot store: %w", err)
	}
	notify := make(chan bool, 16)
	rc := s.raftConfig(notify)
	existing, err := raft.HasExistingState(logStore, s.boltStore, snaps)
	if err != nil {
		return fmt.Errorf("inspect raft state: %w", err)
	}
	if err := s.recoverFromPeersFile(rc, logStore, snaps); err != nil {
		return err
	}
	s.watch = newRaftWatch()
	s.raft, err = raft.NewRaft(rc, s.fsm, logStore, s.boltStore, snaps, s.transport)
	if err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	s.fsm.raft.Store(s.raft)
	s.raft.RegisterObserver(s.watch.observer)
	s.notify, s.hadState = notify, existing
	if s.cfg.Bootstrap && !existing {
		boot := raft.Configuration{Servers: []raft.Server{{
			ID: rc.LocalID, Address: s.transport.LocalAddr(), Suffrage: raft.Voter,
		}}}
		if err := s.raft.BootstrapCluster(boot).Error(); err != nil {
			return fmt.Errorf("bootstrap cluster: %w", err)
		}
		if _, has := s.VaultKeys(); !has {
			if err := s.vault.create(); err != nil {
				return fmt.Errorf("create vault key: %w", err)
			}
		}
	}
	return nil
}

// PeersFile is the name, inside the data dir, of a recovery
// configuration: when it is present at start, the node forces the Raft
// configuration to the servers it lists (see raft.RecoverCluster). It is
// how a cluster that lost its quorum for good is brought back.
const PeersFile = "peers.json"

// recoverFromPeersFile applies a peers.json written by an operator, then
// renames it so that the next start does not apply it again.
func (s *Store) recoverFromPeersFile(rc *raft.Config, logs raft.LogStore, snaps raft.SnapshotStore) error {
	path := filepath.Join(s.cfg.DataDir, PeersFile)
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	conf, err := raft.ReadConfigJSON(path)
	if err != nil {
		return fmt.Errorf("read recovery configuration %s: %w", path, err)
	}
	if err := raft.RecoverCluster(rc, newFSM(), logs, s.boltStore, snaps, s.transport, conf); err != nil {
		return fmt.Errorf("recover cluster from %s: %w", path, err)
	}
	s.log.Warn("recovered the Raft configuration from peers.json", "servers", len(conf.Servers))
	return os.Rename(path, path+".applied")
}

// HadState reports whether the data dir held Raft state at Open, i.e.
// this is a restart rather than a first boot.
func (s *Store) HadState() bool { return s.hadState }

// Close leaves Raft running state behind cleanly; it does not remove the
// node from the cluster (see Leave).
func (s *Store) Close() error {
	var err error
	s.closeMu.Do(func() {
		s.stop()
		s.bg.Wait()
		<-s.catchUp.stopped
		s.submits.close()
		s.robots.close()
		err = s.closeResources()
	})
	return err
}

func (s *Store) closeResources() error {
	var errs []error
	if s.raft != nil {
		errs = append(errs, s.raft.Shutdown().Error())
	}
	if s.transport != nil {
		errs = append(errs, s.transport.Close())
	}
	if s.boltStore != nil {
		errs = append(errs, s.boltStore.Close())
	}
	return errors.Join(errs...)
}
