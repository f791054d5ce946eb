package mesh

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/memberlist"
)

// Meta is what a node advertises to every other member through gossip.
// Its encoded form must fit memberlist's 512-byte node-meta limit, so it
// holds addresses, roles and tags only; bigger state goes through Raft.
type Meta struct {
	Roles    []string // wire.RoleServer, wire.RoleRobot
	HTTPAddr string
	RaftAddr string // the cluster port: Raft on servers, internal endpoints on every node
	QUICAddr string
	Tags     []string
	Capacity int
	Version  string
}

// ErrMetaTooLarge is returned by [New] and [Mesh.UpdateMeta] when the
// encoded [Meta] does not fit memberlist's node-meta limit.
var ErrMetaTooLarge = errors.New("mesh: gossip meta too large")

// wireMeta is Meta as gossiped. The keys are short because every byte
// counts against memberlist's limit, and Instance identifies this run of
// the node so that a leave intent from an earlier run with the same name
// cannot mark a restarted node as leaving.
type wireMeta struct {
	Instance uint64   `json:"i"`
	Roles    []string `json:"r,omitempty"`
	HTTPAddr string   `json:"h,omitempty"`
	RaftAddr string   `json:"a,omitempty"`
	QUICAddr string   `json:"q,omitempty"`
	Tags     []string `json:"t,omitempty"`
	Capacity int      `json:"c,omitempty"`
	Version  string   `json:"v,omitempty"`
}

// encodeMeta encodes meta for gossip and checks it against memberlist's
// limit, which memberlist itself enforces with a panic.
func encodeMeta(meta Meta, instance uint64) ([]byte, error) {
	b, err := json.Marshal(wireMeta{
		Instance: instance,
		Roles:    meta.Roles,
		HTTPAddr: meta.HTTPAddr,
		RaftAddr: meta.RaftAddr,
		QUICAddr: meta.QUICAddr,
		Tags:     meta.Tags,
		Capacity: meta.Capacity,
		Version:  meta.Version,
	})
	if err != nil {
		return nil, fmt.Errorf("encode gossip meta: %w", err)
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("%w: %d bytes encoded, memberlist allows %d; keep it to addresses, roles and tags",
			ErrMetaTooLarge, len(b), memberlist.MetaMaxSize)
	}
	return b, nil
}

// decodeMeta is the inverse of encodeMeta. Unknown keys are ignored so that
// a newer node can add fields without breaking older ones.
func decodeMeta(b []byte) (Meta, uint64, error) {
	if len(b) == 0 {
		return Meta{}, 0, errors.New("decode gossip meta: empty")
	}
	var w wireMeta
	if err := json.Unmarshal(b, &w); err != nil {
		return Meta{}, 0, fmt.Errorf("decode gossip meta: %w", err)
	}
	return Meta{
		Roles:    w.Roles,
		HTTPAddr: w.HTTPAddr,
		RaftAddr: w.RaftAddr,
		QUICAddr: w.QUICAddr,
		Tags:     w.Tags,
		Capacity: w.Capacity,
		Version:  w.Version,
	}, w.Instance, nil
}

// clone returns a copy that shares no slices with meta, so callers of
// Members cannot change the table behind it.
func (meta Meta) clone() Meta {
	meta.Roles = slices.Clone(meta.Roles)
	meta.Tags = slices.Clone(meta.Tags)
	return meta
}

func (meta Meta) equal(other Meta) bool {
	return slices.Equal(meta.Roles, other.Roles) &&
		meta.HTTPAddr == other.HTTPAddr &&
		meta.RaftAddr == other.RaftAddr &&
		meta.QUICAddr == other.QUICAddr &&
		slices.Equal(meta.Tags, other.Tags) &&
		meta.Capacity == other.Capacity &&
		meta.Version == other.Version
}
