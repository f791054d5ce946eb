package consensus

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// TestInternetClaimsMergeWhileEntriesAreInFlight: internet robots' claims
// keep at most two entries in flight, started at least internetClaimGap
// apart, and the claims that arrive meanwhile share the next entry,
// however many robots send them. With four in flight and no gap, claims
// arriving one by one each started an entry of their own while earlier
// ones were in flight.
func TestInternetClaimsMergeWhileEntriesAreInFlight(t *testing.T) {
	type start struct {
		robots []string
		at     time.Time
	}
	release := make(chan struct{})
	starts := make(chan start, 16)
	lan, internet := newClaimBatchers(context.Background(), func(_ context.Context, claims []ClaimCmd) ([]Part[[]ClaimedJob], error) {
		s := start{at: time.Now()}
		for _, c := range claims {
			s.robots = append(s.robots, c.RobotID)
		}
		starts <- s
		<-release
		return make([]Part[[]ClaimedJob], len(claims)), nil
	})
	groups := robotGroups{claims: lan, internetClaims: internet}
	cmd := ClaimCmd{RobotKind: RobotInternet, Max: 2}
	b := groups.claimsOf(cmd)
	if b != internet || groups.claimsOf(ClaimCmd{RobotKind: RobotLAN}) != lan {
		t.Fatal("claims go to the other robot kind's batcher")
	}
	defer lan.close()
	var releaseOnce sync.Once
	free := func() { releaseOnce.Do(func() { close(release) }) }
	// Deferred after close, so that it runs first: a failed test does not
	// leave entries blocked for close to wait on.
	defer b.close()
	defer free()

	// A regression fails the test instead of hanging it until the test
	// binary's timeout.
	nextStart := func() start {
		t.Helper()
		select {
		case s := <-starts:
			return s
		case <-time.After(10 * time.Second):
			t.Fatal("no claim entry started within 10 s")
			return start{}
		}
	}
	var calls sync.WaitGroup
	claim := func(robot string) {
		calls.Go(func() {
			cmd := cmd
			cmd.RobotID = robot
			if _, err := b.do(context.Background(), cmd); err != nil {
				t.Errorf("claim of %s: %v", robot, err)
			}
		})
	}
	// Two entries in flight take the first two claims; the rest wait. The
	// second starts a gap after the first, which started after sent.
	sent := time.Now()
	claim("r0")
	nextStart()
	claim("r1")
	if second := nextStart(); second.at.Sub(sent) < internetClaimGap {
		t.Errorf("the second entry started %v after the first claim was sent, want at least %v", second.at.Sub(sent), internetClaimGap)
	}

	const waiting = 8
	for i := range waiting {
		claim(fmt.Sprintf("w%d", i))
	}
	testutil.WaitFor(t, 5*time.Second, "the claims to wait for an entry", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.pending) == waiting
	})
	free()
	if next := nextStart(); len(next.robots) != waiting {
		t.Errorf("the entry after those in flight carried the claims of %v, want all %d waiting", next.robots, waiting)
	}
	calls.Wait()
}
