package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casare/casare/archive"
	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/mesh"
	"github.com/casare/casare/node/peer"
	"github.com/casare/casare/node/robot"
	"github.com/casare/casare/pki"
)

// Node is one running member of a cluster.
type Node struct {
	cfg     Config
	log     *slog.Logger
	mesh    *mesh.Mesh
	store   *consensus.Store // nil on a robot-only node
	http    *http.Server
	gateway *gateway // nil on a robot-only node
	// tunnelID is what the gateway presents to internet robots; nil on
	// a robot-only node.
	tunnelID *pki.Identity
	peers    *peerFile
	dirLock  *dataDirLock
	// archive and archiver are nil without --archive-url.
	archive  *archive.DB
	archiver *archive.Archiver

	// raftStore is store for the gossip reconnect loop, which starts
	// before the store is opened.
	raftStore atomic.Pointer[consensus.Store]
	// notMember is set while this server is outside the Raft
	// configuration and has not yet rejoined and caught up; removals
	// counts how often that happened.
	notMember atomic.Bool
	removals  atomic.Int64
	// starting is set until the cluster has stored the admin token of
	// this node's data dir (ensureAdminToken): the node is not ready
	// before, or a CLI started once it is ready could be refused the
	// token it found in the data dir.
	starting atomic.Bool
	// adminTokenID is the id of the admin token in this node's data dir,
	// once read: a restarted server whose replica holds it already is
	// not kept starting while the token's idempotent write goes out.
	adminTokenID atomic.Pointer[string]
	// stopWatch ends the membership watch and waits for it: a graceful
	// leave takes the server out of the configuration, which the watch
	// must not undo. nil on a robot-only node.
	stopWatch func()

	// The cluster identity and port (see cluster.go).
	id              *identity
	bootstrapped    bool // this start created a new cluster
	mux             *clusternet.Mux
	internalHTTP    *http.Server
	joinHTTP        *http.Server
	clusterHTTP     *http.Client // see clusterClient
	clusterHTTPOnce sync.Once
	keyMu           sync.Mutex // orders keyring changes and their file writes
	rotateMu        sync.Mutex // one gossip key rotation at a time

	stopRobot context.CancelFunc
	robotDone chan struct{}

	leaveReq  chan struct{}
	leaveOnce sync.Once
	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// Start brings a node up: the data dir's lock first (a second node on
// the same dir fails at once with ErrDataDirInUse), then gossip (so the
// store's liveness view exists), then Raft, then the API, then joins the
// cluster if asked. On error everything started so far is stopped again.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	dirLock, err := lockDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg: cfg, log: cfg.Logger.With("node", cfg.Name), leaveReq: make(chan struct{}),
		stop: cancel, peers: newPeerFile(cfg.DataDir), dirLock: dirLock,
	}
	if err := n.start(ctx, runCtx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) start(ctx, runCtx context.Context) error {
	app, link, member := httpApp{n}, clusterLink{n}, joining{n}
	n.starting.Store(true)
	httpListener, err := app.listenHTTP(ctx)
	if err != nil {
		return err
	}
	keyring, err := link.setupIdentity(ctx)
	if err != nil {
		httpListener.Close()
		return err
	}
	n.mesh, err = mesh.New(mesh.Config{
		Name: n.cfg.Name, BindAddr: n.cfg.ClusterBindAddr, BindPort: n.cfg.GossipPort,
		AdvertiseAddr: n.cfg.AdvertiseAddr, AdvertisePort: n.cfg.GossipPort,
		Meta: n.meta(), Logger: n.log, Keyring: keyring,
		Reconnect: mesh.Reconnect{Peers: member.gossipPeers, Retry: member.retryMember},
	})
	if err != nil {
		httpListener.Close()
		return fmt.Errorf("start gossip: %w", err)
	}
	if err := link.listenCluster(); err != nil {
		httpListener.Close()
		return err
	}
	duties, err := n.openArchive(ctx)
	if err != nil {
		httpListener.Close()
		return err
	}
	if n.cfg.Server {
		if err := n.openStore(duties); err != nil {
			httpListener.Close()
			return err
		}
		n.raftStore.Store(n.store)
	}
	if n.store != nil {
		// The gateway presents the node certificate; robot tokens carry
		// its CA's fingerprint.
		n.tunnelID = n.id.pki
	}
	if err := app.serveHTTP(httpListener); err != nil {
		return err
	}
	// It ends starting once the token is stored, which may be later.
	if err := app.ensureAdminToken(ctx, runCtx); err != nil {
		return err
	}
	if n.store != nil {
		if err := n.startGateway(runCtx); err != nil {
			return err
		}
	}
	link.printBootstrap()
	n.wg.Go(func() { n.peers.keep(runCtx, n.mesh, n.log) })
	if err := member.join(ctx, runCtx); err != nil {
		return err
	}
	if n.store != nil {
		watchCtx, cancel := context.WithCancel(runCtx)
		done := make(chan struct{})
		n.stopWatch = func() { cancel(); <-done }
		n.wg.Go(func() {
			defer close(done)
			member.watchMembership(watchCtx)
		})
	}
	n.startRobot()
	return nil
}

func (n *Node) openStore(duties []consensus.LeaderDuty) error {
	var err error
	fwd := peer.NewClusterForwarder(clusternet.HTTPDialer(n.id.pki.ClientConfig()))
	n.store, err = consensus.Open(consensus.Config{
		Name: n.cfg.Name, DataDir: n.cfg.DataDir,
		RaftBind: n.cfg.clusterBind(), RaftAdvertise: n.clusterAddr(),
		HTTPAddr: n.cfg.httpAdvertise(), QUICAddr: n.cfg.quicAdvertise(), GossipAddr: n.mesh.Addr(),
		Bootstrap: n.cfg.Join == "", Voters: n.cfg.Voters, DeadServerGrace: n.cfg.DeadServerGrace,
		SnapshotEntries: n.cfg.SnapshotEntries,
		Duties:          duties, Archives: n.archiver != nil, Retention: n.cfg.Retention, RetainUntil: n.retainUntil(),
		Stream:    clusternet.NewStreamLayer(n.mux, n.id.pki.ClientConfig()),
		Forwarder: fwd, VaultPusher: fwd,
		Liveness: n.mesh, Logger: n.log,
	})
	if err != nil {
		return fmt.Errorf("start raft: %w", err)
	}
	return nil
}

// startRobot runs this node's LAN robot, whose id is the node's name. A
// node without Raft state reaches the queue through a server.
func (n *Node) startRobot() {
	if !n.cfg.Robot {
		return
	}
	var q robot.Queue = newRemoteQueue(n.mesh, n.clusterHTTPClient())
	if n.store != nil {
		q = robot.StoreQueue{Store: n.store}
	}
	robotCtx, stop := context.WithCancel(context.Background())
	n.stopRobot = stop
	journal, err := robot.OpenCrashJournal(filepath.Join(n.cfg.DataDir, "robot-runs"))
	if err != nil {
		// Runs go on without crash accounting rather than not at all.
		n.log.Warn("robot runs are not journaled; a job that kills this robot's process will not be counted", "err", err)
		journal = nil
	}
	r := robot.New(robot.Config{
		ID: n.cfg.Name, Kind: consensus.RobotLAN, Tags: n.cfg.Tags, Capacity: n.cfg.Capacity,
		Engine: executor.NewEngine(executor.EngineOptions{
			Logger: n.log, WorkDir: n.cfg.WorkDir, NodeTypes: n.cfg.NodeTypes, FileRoot: n.cfg.FileRoot,
		}),
		Logger:  n.log,
		Journal: journal,
	}, q)
	n.robotDone = make(chan struct{})
	go func() {
		defer close(n.robotDone)
		r.Run(robotCtx)
		if journal != nil {
			journal.Close() // every run has ended: nothing is left to note
		}
	}()
}

// drainRobot stops claiming and waits for running jobs to finish, or to
// be cancelled and handed back after the robot's drain timeout.
func (n *Node) drainRobot() {
	if n.stopRobot == nil {
		return
	}
	n.stopRobot()
	<-n.robotDone
}

func (n *Node) meta() mesh.Meta {
	return mesh.Meta{
		Roles: n.cfg.roles(), HTTPAddr: n.cfg.httpAdvertise(), RaftAddr: n.cfg.advertise(n.cfg.RaftPort),
		QUICAddr: n.cfg.quicAdvertise(), Tags: n.cfg.Tags, Capacity: n.cfg.Capacity, Version: Version,
	}
}

// requestLeave asks Run to leave the cluster and return.
func (n *Node) requestLeave() {
	n.leaveOnce.Do(func() { close(n.leaveReq) })
}

// Run blocks until ctx ends or a leave is requested through the API, then
// leaves the cluster gracefully and stops the node.
func (n *Node) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-n.leaveReq:
	}
	const leaveTimeout = 30 * time.Second // covers the robot's drain, the Raft and the gossip leave
	n.log.Info("stopping: finishing running jobs and leaving the cluster", "at_most", leaveTimeout)
	leaveCtx, cancel := context.WithTimeout(context.Background(), leaveTimeout)
	defer cancel()
	err := n.Leave(leaveCtx)
	return errors.Join(err, n.Close())
}

// Leave hands this node's duties back to the cluster: a server removes
// itself from Raft, then the node leaves gossip so peers see "left", not
// "dead".
func (n *Node) Leave(ctx context.Context) error {
	if n.stopWatch != nil {
		n.stopWatch()
	}
	var errs []error
	n.drainRobot()
	if n.store != nil {
		raftCtx, cancel := context.WithTimeout(ctx, 15*time.Second)
		err := n.store.Leave(raftCtx)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("leave raft: %w", err))
		}
	}
	// Telling gossip takes a few rounds; with no live peers left there is
	// nobody to tell, so do not wait long.
	gossipCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := n.mesh.Leave(gossipCtx); err != nil {
		errs = append(errs, fmt.Errorf("leave gossip: %w", err))
	}
	n.log.Info("left the cluster")
	return errors.Join(errs...)
}

// Close stops the node without leaving, as a crash would look to peers
// apart from the clean shutdown of local files.
func (n *Node) Close() error {
	var errs []error
	n.closeOnce.Do(func() {
		n.stop()
		n.drainRobot()
		if n.gateway != nil {
			errs = append(errs, n.gateway.close())
		}
		for _, srv := range []*http.Server{n.http, n.internalHTTP, n.joinHTTP} {
			if srv != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				errs = append(errs, srv.Shutdown(ctx))
				cancel()
			}
		}
		if n.store != nil {
			errs = append(errs, n.store.Close())
		}
		if n.mux != nil {
			n.mux.Close()
		}
		if n.archive != nil {
			n.archive.Close()
		}
		if n.mesh != nil {
			n.peers.save(n.mesh, n.log)
			errs = append(errs, n.mesh.Shutdown())
		}
		n.wg.Wait()
		errs = append(errs, n.dirLock.release())
	})
	return errors.Join(errs...)
}

// Store returns the node's Raft store, or nil on a robot-only node.
func (n *Node) Store() *consensus.Store { return n.store }

// HTTPAddr returns the advertised API address.
func (n *Node) HTTPAddr() string { return n.cfg.httpAdvertise() }

// ClusterAddr returns the advertised cluster port (Raft and internal
// endpoints, mutual TLS).
func (n *Node) ClusterAddr() string { return n.clusterAddr() }

// TLSCertificate is the node certificate (with the CA in its chain) that
// the node presents on its cluster port and QUIC gateway.
func (n *Node) TLSCertificate() tls.Certificate { return n.id.pki.Cert }

// CAPool holds the cluster CA only; peers are checked against it.
func (n *Node) CAPool() *x509.CertPool { return n.id.pki.Pool }

// JoinToken is the cluster's join token, held by servers; "" on a
// robot-only member.
func (n *Node) JoinToken() string {
	if n.id.joinToken.Secret == "" {
		return ""
	}
	return n.id.joinToken.String()
}

// Identity is the node's whole PKI identity (CA key on servers).
func (n *Node) Identity() *pki.Identity { return n.id.pki }

// caFingerprint is the cluster CA's fingerprint robot tokens carry, or ""
// on a node without a gateway.
func (n *Node) caFingerprint() string {
	if n.tunnelID == nil {
		return ""
	}
	return n.tunnelID.Fingerprint()
}
