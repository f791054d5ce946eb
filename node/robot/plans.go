package robot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// GraphSource is a Queue that can fetch a workflow version's graph. A
// robot whose queue is one says in its claims which graphs it holds, and
// the cluster leaves those out of the jobs it hands over; should the
// robot have lost one meanwhile, it fetches it.
type GraphSource interface {
	Graph(ctx context.Context, ref consensus.GraphRef) (json.RawMessage, error)
}

// maxHeld bounds the graphs a claim says the robot holds: the most
// recently used, so a claim stays small however many versions the robot
// has run.
const maxHeld = 64

// maxPlans bounds the parsed versions kept; past it the least recently
// used goes.
const maxPlans = 1000

// errNoGraph means a claim left a job's graph out and the robot does not
// hold it (it lost it after saying it held it).
var errNoGraph = errors.New("graph not held")

// planCache keeps parsed workflow versions, prepared for the robot's
// engine: versions are immutable, so a parse is never stale.
type planCache struct {
	engine *executor.Engine

	mu    sync.Mutex
	plans map[consensus.GraphRef]*plan
	clock uint64
}

type plan struct {
	prep *executor.Prepared
	used uint64 // the cache's clock when last used
}

func newPlanCache(engine *executor.Engine) *planCache {
	return &planCache{engine: engine, plans: map[consensus.GraphRef]*plan{}}
}

// get returns the parsed version, parsing graph if it is not held yet;
// with no graph and none held it returns errNoGraph.
func (p *planCache) get(ref consensus.GraphRef, graph json.RawMessage) (*executor.Prepared, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clock++
	if pl := p.plans[ref]; pl != nil {
		pl.used = p.clock
		return pl.prep, nil
	}
	return p.add(ref, graph)
}

// add parses, validates and prepares a version not held yet. The caller
// holds mu. It is get's miss path, apart so that get's stack frame stays
// small: every run calls get first thing on a fresh goroutine, and with
// the parse's locals in it the frame (480 bytes) made the goroutine's
// stack grow and be copied there on nearly every run (runtime.newstack
// under get in end-to-end profiles).
func (p *planCache) add(ref consensus.GraphRef, graph json.RawMessage) (*executor.Prepared, error) {
	if len(graph) == 0 || string(graph) == "null" {
		return nil, errNoGraph
	}
	wf, err := executor.ParseAndValidate(graph)
	if err != nil {
		return nil, fmt.Errorf("workflow %s version %d: %w", ref.WorkflowID, ref.Version, err)
	}
	if len(p.plans) >= maxPlans {
		oldest := slices.MinFunc(slices.Collect(maps.Keys(p.plans)), func(a, b consensus.GraphRef) int {
			return cmp.Compare(p.plans[a].used, p.plans[b].used)
		})
		delete(p.plans, oldest)
	}
	prep := p.engine.Prepare(wf)
	p.plans[ref] = &plan{prep: prep, used: p.clock}
	return prep, nil
}

// held lists up to maxHeld versions held, most recently used first.
func (p *planCache) held() []consensus.GraphRef {
	p.mu.Lock()
	defer p.mu.Unlock()
	refs := slices.SortedFunc(maps.Keys(p.plans), func(a, b consensus.GraphRef) int {
		return cmp.Compare(p.plans[b].used, p.plans[a].used)
	})
	return refs[:min(len(refs), maxHeld)]
}
