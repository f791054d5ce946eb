package robot

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/casare/casare/executor"
)

// planCache keeps parsed workflow versions: versions are immutable, so a
// parse is never stale.
type planCache struct {
	mu    sync.Mutex
	plans map[planKey]*executor.Workflow
}

type planKey struct {
	id      string
	version int
}

func newPlanCache() *planCache { return &planCache{plans: map[planKey]*executor.Workflow{}} }

func (p *planCache) get(id string, version int, graph json.RawMessage) (*executor.Workflow, error) {
	key := planKey{id, version}
	p.mu.Lock()
	defer p.mu.Unlock()
	if wf := p.plans[key]; wf != nil {
		return wf, nil
	}
	wf, err := executor.ParseAndValidate(graph)
	if err != nil {
		return nil, fmt.Errorf("workflow %s version %d: %w", id, version, err)
	}
	if len(p.plans) > 1000 {
		clear(p.plans)
	}
	p.plans[key] = wf
	return wf, nil
}
