package consensus

import (
	"regexp"
	"slices"
	"sort"
	"time"
)

// Secret is one vault entry as replicated: metadata and the value sealed
// under the vault key KeyID. The FSM never sees a value in clear.
type Secret struct {
	SecretMeta
	KeyID      string `json:"key_id"`
	Ciphertext []byte `json:"ciphertext"`
	// RequestID is the set that wrote this version, so a retried set
	// returns it instead of making another.
	RequestID string `json:"request_id,omitempty"`
}

// SecretMeta is what anyone may read about a secret: never its value.
type SecretMeta struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	// AllowedWorkflows limits the secret to these workflows (ids or
	// names); empty means any workflow may use it.
	AllowedWorkflows []string  `json:"allowed_workflows,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	UpdatedBy        string    `json:"updated_by,omitempty"`
}

// MaxSecretBytes bounds a secret's value: passwords, tokens and keys fit
// easily, and every claim of a workflow that uses it carries it.
const MaxSecretBytes = 64 << 10

var secretName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,127}$`)

// ValidSecretName reports whether name may name a secret: a letter or _
// first, then letters, digits, _ . -, at most 128 characters.
func ValidSecretName(name string) bool { return secretName.MatchString(name) }

// PutSecretCmd sets a secret's value (sealed before Raft) and rules.
type PutSecretCmd struct {
	Name             string   `json:"name"`
	KeyID            string   `json:"key_id"`
	Ciphertext       []byte   `json:"ciphertext"`
	AllowedWorkflows []string `json:"allowed_workflows,omitempty"`
	UpdatedBy        string   `json:"updated_by,omitempty"`
	// RequestID makes a retried set return the version it made.
	RequestID string `json:"request_id,omitempty"`
}

// DeleteSecretCmd removes a secret.
type DeleteSecretCmd struct {
	Name      string `json:"name"`
	RequestID string `json:"request_id,omitempty"`
}

// RotateVaultCmd replaces every secret's ciphertext with one sealed under
// KeyID. A ciphertext whose secret changed since it was read (Version) is
// skipped; the rotation reports it and the caller runs again.
type RotateVaultCmd struct {
	KeyID   string          `json:"key_id"`
	Secrets []RotatedSecret `json:"secrets"`
	// Params are jobs' and schedules' secret parameters, re-encrypted.
	Params []RotatedParams `json:"params,omitempty"`
}

// RotatedSecret is one re-encrypted value.
type RotatedSecret struct {
	Name       string `json:"name"`
	Version    int    `json:"version"`
	Ciphertext []byte `json:"ciphertext"`
}

// RotateVaultResult says how many secrets the rotation re-encrypted and
// which ones changed under it.
type RotateVaultResult struct {
	Rotated int      `json:"rotated"`
	Stale   []string `json:"stale,omitempty"`
}

func (s accessApply) putSecret(c applyContext, cmd *PutSecretCmd) (SecretMeta, error) {
	if !ValidSecretName(cmd.Name) {
		return SecretMeta{}, errorf(CodeInvalid, "secret name %q is invalid: use letters, digits, _ . - (a letter or _ first, at most 128)", cmd.Name)
	}
	if cmd.KeyID == "" || len(cmd.Ciphertext) == 0 {
		return SecretMeta{}, errorf(CodeInvalid, "secret %q carries no sealed value", cmd.Name)
	}
	if s.vaultKeyID != "" && cmd.KeyID != s.vaultKeyID {
		// A rotation committed between sealing and this entry: the
		// caller seals again under the new key.
		return SecretMeta{}, errorf(CodeConflict, "secret %q was sealed under vault key %s, but the cluster now uses %s: retry", cmd.Name, cmd.KeyID, s.vaultKeyID)
	}
	old := s.secrets[cmd.Name]
	if old != nil && cmd.RequestID != "" && old.RequestID == cmd.RequestID {
		return old.SecretMeta.clone(), nil
	}
	sec := &Secret{SecretMeta: SecretMeta{
		Name: cmd.Name, Version: 1, AllowedWorkflows: slices.Clone(cmd.AllowedWorkflows),
		CreatedAt: c.now, UpdatedAt: c.now, UpdatedBy: cmd.UpdatedBy,
	}, KeyID: cmd.KeyID, Ciphertext: slices.Clone(cmd.Ciphertext)}
	if old != nil {
		sec.Version, sec.CreatedAt = old.Version+1, old.CreatedAt
	}
	sec.RequestID = cmd.RequestID
	s.secrets[cmd.Name] = sec
	s.vaultKeyID = cmd.KeyID
	return sec.SecretMeta.clone(), nil
}

func (s accessApply) deleteSecret(c applyContext, cmd *DeleteSecretCmd) (struct{}, error) {
	key := "secret/" + cmd.Name
	if s.secrets[cmd.Name] == nil {
		if s.deletedBy(key, cmd.RequestID) {
			return struct{}{}, nil
		}
		return struct{}{}, errorf(CodeNotFound, "secret %q not found", cmd.Name)
	}
	delete(s.secrets, cmd.Name)
	s.recordDeletion(c, key, cmd.RequestID)
	return struct{}{}, nil
}

func (s accessApply) rotateVault(_ applyContext, cmd *RotateVaultCmd) (RotateVaultResult, error) {
	if cmd.KeyID == "" {
		return RotateVaultResult{}, errorf(CodeInvalid, "vault rotation names no key")
	}
	var res RotateVaultResult
	for _, r := range cmd.Secrets {
		sec := s.secrets[r.Name]
		if sec == nil || sec.Version != r.Version {
			res.Stale = append(res.Stale, r.Name)
			continue
		}
		sec.KeyID, sec.Ciphertext = cmd.KeyID, slices.Clone(r.Ciphertext)
		res.Rotated++
	}
	s.rotateParams(cmd, &res)
	s.vaultKeyID = cmd.KeyID
	return res, nil
}

func (m SecretMeta) clone() SecretMeta {
	m.AllowedWorkflows = slices.Clone(m.AllowedWorkflows)
	return m
}

// Allows reports whether the workflow (id, name) may use the secret.
func (m SecretMeta) Allows(workflowID, workflowName string) bool {
	return len(m.AllowedWorkflows) == 0 ||
		slices.Contains(m.AllowedWorkflows, workflowID) || slices.Contains(m.AllowedWorkflows, workflowName)
}

func (s *state) secretList() []SecretMeta {
	out := make([]SecretMeta, 0, len(s.secrets))
	for _, sec := range s.secrets {
		out = append(out, sec.SecretMeta.clone())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
