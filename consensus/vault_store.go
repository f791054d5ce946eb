package consensus

import (
	"context"
	"fmt"
	"slices"

	"github.com/casare/casare/executor"
)

// VaultPusher hands a keyring to another server. A rotation pushes the
// new key to every server before any value is sealed under it, and
// retires the old one afterwards. node/peer implements it over the
// internal endpoints (mutual TLS once the cluster PKI lands).
type VaultPusher interface {
	PushVaultKeys(ctx context.Context, server NodeInfo, keys VaultKeys, replace bool) error
}

// VaultKeys returns this server's keyring, for a joining server (the join
// response carries it). ok is false when this server holds no key.
func (s Vault) VaultKeys() (VaultKeys, bool) {
	k := s.vault.snapshot()
	return k, k.Current != ""
}

// InstallVaultKeys merges keys into this server's keyring (replace false)
// or makes the ring exactly keys (replace true: a rotation retiring the
// old key). It is how a joiner and a rotation's push reach the key file.
func (s Vault) InstallVaultKeys(keys VaultKeys, replace bool) error {
	if keys.Current == "" {
		return errorf(CodeInvalid, "vault keyring names no current key")
	}
	if err := s.vault.install(keys, replace); err != nil {
		return errorf(CodeInvalid, "%v", err)
	}
	return nil
}

// sealKey picks the key new values are sealed under: the one the
// replicated state names, so that a set during a rotation seals under
// the new key as soon as the rotation committed.
func (s Vault) sealKey() (string, error) {
	var id string
	s.fsm.read(func(st *state) { id = st.vaultKeyID })
	ring := s.vault.snapshot()
	if _, ok := ring.Keys[id]; id == "" || !ok {
		id = ring.Current
	}
	if id == "" {
		return "", errorf(CodeInternal, "server %s holds no vault key (%s in its data dir): it was not bootstrapped with one and has not joined since; run `casare secrets rotate-key` once to create one", s.cfg.Name, VaultKeyFile)
	}
	return id, nil
}

// SetSecret seals value and stores it with its rules; it creates the
// secret or makes a new version. Retried after a leader change it returns
// the version it made. A rotation that commits between sealing and the
// entry makes it seal again.
func (s Vault) SetSecret(ctx context.Context, name string, value []byte, allowed []string, by string) (SecretMeta, error) {
	if !ValidSecretName(name) {
		return SecretMeta{}, errorf(CodeInvalid, "secret name %q is invalid: use letters, digits, _ . - (a letter or _ first, at most 128)", name)
	}
	if len(value) == 0 || len(value) > MaxSecretBytes {
		return SecretMeta{}, errorf(CodeInvalid, "secret %q: value is %d bytes; it must be 1 to %d", name, len(value), MaxSecretBytes)
	}
	reqID := newRequestID()
	for attempt := 0; ; attempt++ {
		id, err := s.sealKey()
		if err != nil {
			return SecretMeta{}, err
		}
		sealed, err := s.vault.seal(id, name, value)
		if err != nil {
			return SecretMeta{}, fmt.Errorf("seal secret %q: %w", name, err)
		}
		meta, err := apply[SecretMeta](ctx, s.Store, cmdPutSecret, PutSecretCmd{
			Name: name, KeyID: id, Ciphertext: sealed, AllowedWorkflows: allowed, UpdatedBy: by, RequestID: reqID,
		})
		if IsCode(err, CodeConflict) && attempt < 3 {
			// Let this replica apply the rotation before sealing again.
			if _, werr := s.WaitConsistent(ctx); werr != nil {
				return SecretMeta{}, werr
			}
			continue
		}
		return meta, err
	}
}

// DeleteSecret removes a secret; jobs that need it fail from then on.
func (s Vault) DeleteSecret(ctx context.Context, name string) error {
	_, err := apply[struct{}](ctx, s.Store, cmdDeleteSecret, DeleteSecretCmd{Name: name, RequestID: newRequestID()})
	return err
}

// Secrets lists every secret's metadata, by name, and the applied index
// the read saw.
func (s Vault) Secrets() ([]SecretMeta, uint64) {
	var out []SecretMeta
	idx := s.fsm.read(func(st *state) { out = st.secretList() })
	return out, idx
}

// SecretInfo returns one secret's metadata.
func (s Vault) SecretInfo(name string) (SecretMeta, bool) {
	var m SecretMeta
	var ok bool
	s.fsm.read(func(st *state) {
		if sec := st.secrets[name]; sec != nil {
			m, ok = sec.SecretMeta.clone(), true
		}
	})
	return m, ok
}

// SecretVariables returns the secret_variables of a workflow version.
func (s Vault) SecretVariables(workflowID string, version int) []string {
	var out []string
	s.fsm.read(func(st *state) {
		if wf := st.workflows[workflowID]; wf != nil {
			if v, ok := wf.Version(version); ok {
				out = slices.Clone(v.SecretVariables)
			}
		}
	})
	return out
}

// storeRunSecrets stores the values a completion carries for the vault
// and takes them out of it. Only the robot holding the job's lease may,
// and only into a secret that exists and allows the job's workflow; a
// refusal fails the attempt as a business failure that names the rule.
func (s Vault) storeRunSecrets(ctx context.Context, robotID string, c *Completion) {
	if len(c.StoreSecrets) == 0 {
		return
	}
	values := c.StoreSecrets
	c.StoreSecrets = nil
	var wfID, wfName string
	var leased bool
	metas := map[string]SecretMeta{}
	s.fsm.read(func(st *state) {
		j := st.jobs[c.JobID]
		leased = j != nil && j.lease() != nil && j.Lease.Token == c.Token && j.Lease.RobotID == robotID
		if wf := st.workflows[jobWorkflowID(j)]; wf != nil {
			wfID, wfName = wf.ID, wf.Name
		}
		for name := range values {
			if sec := st.secrets[name]; sec != nil {
				metas[name] = sec.SecretMeta.clone()
			}
		}
	})
	if !leased {
		return // a stale completion: the FSM refuses it anyway
	}
	for name, value := range values {
		meta, ok := metas[name]
		var err error
		switch {
		case !ok:
			err = fmt.Errorf("secret %q does not exist: create it with `casare secrets set %s` first", name, name)
		case !meta.Allows(wfID, wfName):
			err = fmt.Errorf("workflow %q may not use secret %q: the secret is limited to workflows %v", wfName, name, meta.AllowedWorkflows)
		default:
			_, err = s.SetSecret(ctx, name, []byte(value), meta.AllowedWorkflows, "workflow "+wfName+" (job "+c.JobID+")")
		}
		if err != nil {
			c.Succeeded, c.FailureKind = false, FailureBusiness
			c.Error = fmt.Sprintf("store_refresh_token_as: %v", err)
			s.log.Warn("run could not store a secret", "job", c.JobID, "secret", name, "err", err)
		}
	}
}

func jobWorkflowID(j *Job) string {
	if j == nil {
		return ""
	}
	return j.WorkflowID
}

// workflowSecrets finds the secrets a graph references, for PutWorkflow.
func workflowSecrets(graph []byte) ([]string, error) {
	names, err := executor.SecretRefs(graph)
	if err != nil {
		return nil, errorf(CodeInvalid, "%v", err)
	}
	for _, n := range names {
		if !ValidSecretName(n) {
			return nil, errorf(CodeInvalid, "secret(%q): not a valid secret name", n)
		}
	}
	return names, nil
}

// OpenSecret returns a secret's value, opened on this server. Only the
// OAuth connect flow uses it, for the client secret of the exchange it
// makes itself; robots get values only in their claims.
func (s Vault) OpenSecret(name string) ([]byte, error) {
	var sec *Secret
	s.fsm.read(func(st *state) {
		if x := st.secrets[name]; x != nil {
			c := *x
			sec = &c
		}
	})
	if sec == nil {
		return nil, errorf(CodeNotFound, "secret %q not found", name)
	}
	return s.vault.open(sec.KeyID, sec.Name, sec.Ciphertext)
}
