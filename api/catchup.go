package api

import (
	"github.com/gin-gonic/gin"
)

// CodeCatchingUp: the node restarted and has not yet applied the state it
// held before; its answers would come from a past state.
const CodeCatchingUp = "catching_up"

// catchingUpRetryAfter is the Retry-After of a catching_up answer, in
// seconds: a node replays tens of thousands of entries a second.
const catchingUpRetryAfter = "1"

// catchUpExempt are the v1 endpoints a catching-up node still serves:
// they describe the node, not the data.
var catchUpExempt = map[string]bool{
	"/api/v1/cluster":      true,
	"/api/v1/openapi.json": true,
}

// catchingUp answers 503 catching_up, with Retry-After, while the node
// is applying what it held before a restart: until then its replica is
// a past state (at first an empty one), and a queue of 50,000 jobs would
// read as empty.
func (s guards) catchingUp(c *gin.Context) {
	if catchUpExempt[c.FullPath()] {
		return
	}
	behind, applied, target := s.cfg.Store.CatchingUp()
	if !behind {
		return
	}
	setAppliedIndex(c, applied)
	c.Header("Retry-After", catchingUpRetryAfter)
	e := newError(CodeCatchingUp, "this node restarted and is catching up: it has applied %d of the %d entries it held; retry in a moment or ask another node", applied, target)
	e.details = map[string]any{"applied_index": applied, "target_index": target}
	s.abort(c, e)
}
