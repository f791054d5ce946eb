//go:build unix

package cluster

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
)

// freshTokenRounds is how many tokens the test creates. A follower learns
// of a commit on the leader's next append or heartbeat, so a token used
// on it the moment the leader answers is most of the time not applied
// there yet; over this many rounds a node that answers from its replica
// alone refuses some of them.
const freshTokenRounds = 20

// TestAFollowerNeverRefusesATokenCreatedAMomentAgo creates API tokens on
// the leader of three real processes and uses each at once on both
// followers, one of which was stopped (SIGSTOP) while the token was
// created and resumed just before it is used. A follower that has not
// applied the token yet waits for the leader's read index; when it
// cannot in time it answers catching_up with Retry-After. It never
// answers 401 for a token that exists, and still answers 401 for one
// that does not.
func TestAFollowerNeverRefusesATokenCreatedAMomentAgo(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, "--robot=false")
	leader := c.leader()
	followers := c.others(leader)
	ctx := t.Context()
	var waited int
	for i := range freshTokenRounds {
		lagging := followers[i%len(followers)]
		lagging.pause()
		created, err := leader.client.CreateAPIToken(ctx, wire.CreateTokenRequest{Name: fmt.Sprintf("fresh-%d", i), Role: "viewer"})
		lagging.resume()
		if err != nil {
			t.Fatalf("round %d: create a token on leader %s: %v", i, leader.name, err)
		}
		for _, f := range []*node{lagging, c.others(leader, lagging)[0]} {
			n, err := whoAmIUntilAnswered(f, created.Token)
			if err != nil {
				t.Fatalf("round %d: token %s created on %s, used at once on %s: %v", i, created.ID, leader.name, f.name, err)
			}
			waited += n
		}
	}
	t.Logf("%d rounds; %d catching_up answers before the token was known", freshTokenRounds, waited)

	// A token that does not exist is still refused, after the check.
	created, err := leader.client.CreateAPIToken(ctx, wire.CreateTokenRequest{Name: "forged", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	forged := created.Token[:len(created.Token)-4] + "0000"
	if forged == created.Token {
		forged = created.Token[:len(created.Token)-4] + "1111"
	}
	for _, f := range followers {
		_, err := client.New(serverURL(f), client.WithTimeout(callTimeout), client.WithToken(forged)).WhoAmI(ctx)
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
			t.Fatalf("a forged token on %s: want 401, got %v", f.name, err)
		}
	}
}

// whoAmIUntilAnswered calls GET /api/v1/auth/whoami on n with token,
// honouring catching_up's Retry-After a bounded number of times, and
// returns how many catching_up answers came first. Any 401 is an error.
func whoAmIUntilAnswered(n *node, token string) (int, error) {
	cl := client.New(serverURL(n), client.WithTimeout(callTimeout), client.WithToken(token))
	const tries = 10
	for i := range tries {
		who, err := cl.WhoAmI(n.tb.Context())
		var ae *client.APIError
		switch {
		case err == nil && who.Role == "viewer":
			return i, nil
		case err == nil:
			return i, fmt.Errorf("whoami says role %q, want viewer", who.Role)
		case errors.As(err, &ae) && ae.Code == api.CodeCatchingUp:
			// The node said when to come back; a fixed pause is what
			// Retry-After asks for, not a guess at a sync point.
			time.Sleep(time.Second)
		default:
			return i, err
		}
	}
	return tries, fmt.Errorf("still catching_up after %d tries", tries)
}
