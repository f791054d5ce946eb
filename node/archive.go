package node

import (
	"context"
	"fmt"

	"github.com/casare/casare/api"
	"github.com/casare/casare/archive"
	"github.com/casare/casare/consensus"
)

// openArchive connects to the archive when one is configured and returns
// the leader duties that feed it. Only servers can lead: setDefaults
// refuses an archive URL on a robot-only node.
func (n *Node) openArchive(ctx context.Context) ([]consensus.LeaderDuty, error) {
	if n.cfg.ArchiveURL == "" {
		return nil, nil
	}
	db, err := archive.Open(ctx, n.cfg.ArchiveURL, n.log)
	if err != nil {
		return nil, fmt.Errorf("open the archive: %w", err)
	}
	n.archive = db
	n.archiver = archive.NewArchiver(db)
	n.log.Info("archive connected; the leader archives finished jobs into it")
	return []consensus.LeaderDuty{n.archiver}, nil
}

// Archiver returns the node's archiver, or nil without an archive.
func (n *Node) Archiver() *archive.Archiver { return n.archiver }

// apiArchive is the archive as the API reads it; a nil interface, not a
// nil pointer, without one.
func (n httpApp) apiArchive() api.Archive {
	if n.archive == nil {
		return nil
	}
	return n.archive
}

// retainUntil bounds retention by the archive's position, so a finished
// job leaves Raft only once the archive has it; nil without an archive.
func (n *Node) retainUntil() func() (string, uint64) {
	if n.archiver == nil {
		return nil
	}
	return func() (string, uint64) {
		p := n.archiver.ArchivedPosition()
		return p.RestoreID, p.Index
	}
}
