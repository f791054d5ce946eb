package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// The vault's endpoints. A value comes in once, in the body of a PUT, and
// never goes out: every answer is metadata. Only admins may call these
// once the role middleware is in (issue 12, sec-api): the routes are
// registered in one place, vaultRoutes, so they can move into the admin
// group.

// VaultStore is the credential vault: sealed secrets and the vault key.
type VaultStore interface {
	SetSecret(ctx context.Context, name string, value []byte, allowed []string, by string) (consensus.SecretMeta, error)
	DeleteSecret(ctx context.Context, name string) error
	Secrets() ([]consensus.SecretMeta, uint64)
	SecretInfo(name string) (consensus.SecretMeta, bool)
	RotateVaultKey(ctx context.Context) (consensus.RotateVaultResult, error)
	InstallVaultKeys(keys consensus.VaultKeys, replace bool) error
	SecretVariables(workflowID string, version int) []string
	OpenSecret(name string) ([]byte, error)
}

// hideSecretParams shows the parameters a workflow declares in its
// secret_variables as ***: the robot's run hides them everywhere else.
func (s *Server) hideSecretParams(jobs []Job) []Job {
	masks := s.paramMasks()
	for i := range jobs {
		masks.hide(&jobs[i])
	}
	return jobs
}

// paramMasks hides secret parameters job by job, asking secretVariables
// (the store's) once for each workflow version it meets.
type paramMasks struct {
	secretVariables func(workflowID string, version int) []string
	seen            map[consensus.GraphRef][]string
}

func (s *Server) paramMasks() paramMasks {
	return paramMasks{secretVariables: s.cfg.Store.SecretVariables, seen: map[consensus.GraphRef][]string{}}
}

func (m paramMasks) hide(j *Job) {
	k := consensus.GraphRef{WorkflowID: j.WorkflowID, Version: j.WorkflowVersion}
	names, ok := m.seen[k]
	if !ok {
		names = m.secretVariables(k.WorkflowID, k.Version)
		m.seen[k] = names
	}
	if len(names) > 0 {
		j.Params = maskParams(j.Params, names)
	}
}

func maskParams(raw json.RawMessage, names []string) json.RawMessage {
	var params map[string]json.RawMessage
	if json.Unmarshal(raw, &params) != nil {
		return raw
	}
	hidden, _ := json.Marshal(executor.Redacted)
	for _, n := range names {
		if _, ok := params[n]; ok {
			params[n] = hidden
		}
	}
	out, err := json.Marshal(params)
	if err != nil {
		return raw
	}
	return out
}

// maxSecretBody bounds a PUT: the largest value, JSON-escaped (up to six
// bytes per byte), plus the rules.
const maxSecretBody = 6*consensus.MaxSecretBytes + 64<<10

func (s *Server) vaultRoutes(root *gin.Engine, v1 *gin.RouterGroup) {
	secrets := secretsAPI{s}
	root.GET("/oauth/callback", secrets.oauthCallback)
	v1.GET("/secrets", secrets.listSecrets)
	v1.GET("/secrets/:name", secrets.getSecret)
	v1.PUT("/secrets/:name", secrets.putSecret)
	v1.DELETE("/secrets/:name", secrets.deleteSecret)
	v1.POST("/secrets/rotate-key", secrets.rotateVaultKey)
	v1.POST("/secrets/:name/oauth-connect", secrets.oauthConnect)
}

func secretView(m consensus.SecretMeta) wire.Secret {
	allowed := m.AllowedWorkflows
	if allowed == nil {
		allowed = []string{}
	}
	return wire.Secret{
		Name: m.Name, Version: m.Version, AllowedWorkflows: allowed,
		CreatedAt: m.CreatedAt, UpdatedAt: m.UpdatedAt, UpdatedBy: m.UpdatedBy,
	}
}

func (s secretsAPI) listSecrets(c *gin.Context) {
	metas, idx := s.cfg.Store.Secrets()
	out := wire.SecretList{Secrets: make([]wire.Secret, 0, len(metas)), AppliedIndex: idx}
	for _, m := range metas {
		out.Secrets = append(out.Secrets, secretView(m))
	}
	c.JSON(http.StatusOK, out)
}

func (s secretsAPI) getSecret(c *gin.Context) {
	m, ok := s.cfg.Store.SecretInfo(c.Param("name"))
	if !ok {
		s.abort(c, newError(consensus.CodeNotFound, "secret %q not found", c.Param("name")))
		return
	}
	c.JSON(http.StatusOK, secretView(m))
}

func (s secretsAPI) putSecret(c *gin.Context) {
	var req wire.PutSecretRequest
	if !s.bindJSONLimit(c, &req, maxSecretBody) {
		return
	}
	if req.Value == "" {
		s.abort(c, missingFields("value"))
		return
	}
	for _, w := range req.AllowedWorkflows {
		if w == "" {
			s.abort(c, invalidField("allowed_workflows", "holds an empty workflow id or name"))
			return
		}
	}
	m, err := s.cfg.Store.SetSecret(c.Request.Context(), c.Param("name"), []byte(req.Value), req.AllowedWorkflows, callerName(c))
	if err != nil {
		s.abort(c, err)
		return
	}
	status := http.StatusOK
	if m.Version == 1 {
		status = http.StatusCreated
	}
	c.JSON(status, secretView(m))
}

// callerName names the caller for updated_by: the name of the API token
// the request was authenticated with, else the client's address.
func callerName(c *gin.Context) string {
	if p, ok := principal(c); ok && p.Name != "" {
		return p.Name
	}
	return "api@" + c.ClientIP()
}

func (s secretsAPI) deleteSecret(c *gin.Context) {
	if err := s.cfg.Store.DeleteSecret(c.Request.Context(), c.Param("name")); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s secretsAPI) rotateVaultKey(c *gin.Context) {
	res, err := s.cfg.Store.RotateVaultKey(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, wire.RotateVaultKeyResponse{Rotated: res.Rotated, Stale: res.Stale})
}

// VaultKeysRequest is the body of POST /internal/v1/vault/keys: a
// rotation handing this server a keyring.
type VaultKeysRequest struct {
	Keys    consensus.VaultKeys `json:"keys"`
	Replace bool                `json:"replace"`
}

// internalVaultKeys installs a keyring pushed by a rotation. It carries
// the vault key, so it must only ever be served on the mutual-TLS
// cluster listener (issue 12, sec-cluster).
func (s internalAPI) internalVaultKeys(c *gin.Context) {
	var req VaultKeysRequest
	if !s.bindJSON(c, &req) {
		return
	}
	if err := s.cfg.Store.InstallVaultKeys(req.Keys, req.Replace); err != nil {
		s.abort(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
