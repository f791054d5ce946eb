package node

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/pki"
)

// LocalClusterClient is how the CLI on a node's machine reaches that
// node's internal endpoints (leave, gossip key rotation): it presents the
// node's own certificate from dataDir to the cluster port that the API at
// server names. Only someone who can read the node's key can do this.
func LocalClusterClient(ctx context.Context, dataDir, server string) (*client.Client, error) {
	id, err := pki.PathsIn(dataDir).Load()
	if err != nil {
		return nil, fmt.Errorf("this command uses the node certificate in %s (run it on the node's machine, or pass --data-dir): %w", dataDir, err)
	}
	var info clusterPortInfo
	if err := client.New(server).GetJSON(ctx, clusterInfoPath, &info); err != nil {
		return nil, fmt.Errorf("ask %s for its cluster port: %w", server, err)
	}
	if info.Node != id.Name {
		return nil, fmt.Errorf("the node at %s is %q, but the certificate in %s is %q's", server, info.Node, dataDir, id.Name)
	}
	hc := &http.Client{Timeout: client.DefaultTimeout, Transport: &http.Transport{
		DialContext: clusternet.HTTPDialer(id.ClientConfig()),
	}}
	return client.New("http://"+strings.TrimSpace(info.ClusterAddr), client.WithHTTPClient(hc)), nil
}

// RotateGossipKeyVia asks the node behind c to rotate the cluster's
// gossip key.
func RotateGossipKeyVia(ctx context.Context, c *client.Client) (RotateResult, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute) // every member, three steps each
	defer cancel()
	var res RotateResult
	err := c.PostJSON(ctx, "/internal/v1/gossip-key/rotate", struct{}{}, &res)
	return res, err
}
