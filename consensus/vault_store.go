package consensus

import (
	"context"
	"errors"
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
func (s *Store) VaultKeys() (VaultKeys, bool) {
	k := s.vault.snapshot()
	return k, k.Current != ""
}

// InstallVaultKeys merges keys into this server's keyring (replace false)
// or makes the ring exactly keys (replace true: a rotation retiring the
// old key). It is how a joiner and a rotation's push reach the key file.
func (s *Store) InstallVaultKeys(keys VaultKeys, replace bool) error {
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
func (s *Store) sealKey() (string, error) {
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
func (s *Store) SetSecret(ctx context.Context, name string, value []byte, allowed []string, by string) (SecretMeta, error) {
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
		meta, err := apply[SecretMeta](ctx, s, cmdPutSecret, PutSecretCmd{
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
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	_, err := apply[struct{}](ctx, s, cmdDeleteSecret, DeleteSecretCmd{Name: name, RequestID: newRequestID()})
	return err
}

// Secrets lists every secret's metadata, by name, and the applied index
// the read saw.
func (s *Store) Secrets() ([]SecretMeta, uint64) {
	var out []SecretMeta
	idx := s.fsm.read(func(st *state) { out = st.secretList() })
	return out, idx
}

// SecretInfo returns one secret's metadata.
func (s *Store) SecretInfo(name string) (SecretMeta, bool) {
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
func (s *Store) SecretVariables(workflowID string, version int) []string {
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
func (s *Store) storeRunSecrets(ctx context.Context, robotID string, c *Completion) {
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
		leased = j != nil && j.Lease != nil && j.Lease.Token == c.Token && j.Lease.RobotID == robotID
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

// sealedFor is what a claim needs to open one job's secrets.
type sealedFor struct {
	names []string
	keyID []string
	data  [][]byte
	err   string
	kind  string
}

// attachSecrets opens, for each claimed job, the secrets its workflow
// version references and puts them into the claim. It runs on the server
// that serves the robot's claim, after the claim committed; the values
// exist in clear on this server only for the length of this call and the
// response to the robot.
func (s *Store) attachSecrets(ctx context.Context, jobs []ClaimedJob) error {
	if len(jobs) == 0 || jobs[0].Job.Lease == nil {
		return nil
	}
	// The claim's index is its fencing token; reading at or after it
	// sees the workflow versions and secrets the claim saw.
	if err := s.WaitApplied(ctx, jobs[0].Job.Lease.Token); err != nil {
		return fmt.Errorf("attach secrets: %w", err)
	}
	sealed := make([]sealedFor, len(jobs))
	s.fsm.read(func(st *state) {
		for i := range jobs {
			sealed[i] = st.sealedSecrets(&jobs[i].Job)
		}
	})
	for i := range jobs {
		s.openSecrets(&jobs[i], sealed[i])
	}
	return nil
}

// sealedSecrets collects a job's sealed secrets, or the rule that stops it.
func (st *state) sealedSecrets(j *Job) sealedFor {
	wf := st.workflows[j.WorkflowID]
	if wf == nil {
		return sealedFor{}
	}
	v, ok := wf.Version(j.WorkflowVersion)
	if !ok || len(v.Secrets) == 0 {
		return sealedFor{}
	}
	var out sealedFor
	for _, name := range v.Secrets {
		sec := st.secrets[name]
		if sec == nil {
			return sealedFor{kind: FailureBusiness, err: fmt.Sprintf(
				"secret %q is not in the vault (deleted or never set); workflow %q needs it", name, wf.Name)}
		}
		if !sec.Allows(wf.ID, wf.Name) {
			return sealedFor{kind: FailureBusiness, err: fmt.Sprintf(
				"workflow %q (%s) may not use secret %q: the secret is limited to workflows %v", wf.Name, wf.ID, name, sec.AllowedWorkflows)}
		}
		out.names = append(out.names, name)
		out.keyID = append(out.keyID, sec.KeyID)
		out.data = append(out.data, sec.Ciphertext)
	}
	return out
}

func (s *Store) openSecrets(c *ClaimedJob, sf sealedFor) {
	if sf.err != "" {
		c.SecretError, c.SecretErrorKind = sf.err, sf.kind
		return
	}
	if len(sf.names) == 0 {
		return
	}
	c.Secrets = make(map[string]string, len(sf.names))
	for i, name := range sf.names {
		plain, err := s.vault.open(sf.keyID[i], name, sf.data[i])
		if err != nil {
			c.Secrets = nil
			c.SecretError, c.SecretErrorKind = fmt.Sprintf("server %s cannot open secret %q: %v", s.cfg.Name, name, err), FailureApplication
			if errors.Is(err, ErrVaultKeyMissing) {
				s.log.Warn("claim needs a vault key this server lacks", "secret", name, "key", sf.keyID[i])
			}
			return
		}
		c.Secrets[name] = string(plain)
	}
}

// RotateVaultKey makes a new vault key, hands it to every server in the
// Raft configuration, re-encrypts every secret under it in one entry and
// then retires the old key on every server. It refuses to start unless
// every server takes the new key, so no server is left unable to open a
// value. Run it again if it reports secrets that changed under it.
func (s *Store) RotateVaultKey(ctx context.Context) (RotateVaultResult, error) {
	if s.cfg.VaultPusher == nil {
		return RotateVaultResult{}, errorf(CodeInternal, "this node cannot reach other servers' vault keys")
	}
	servers, err := s.vaultServers()
	if err != nil {
		return RotateVaultResult{}, err
	}
	id, key, err := newVaultKey()
	if err != nil {
		return RotateVaultResult{}, err
	}
	ring := s.vault.snapshot()
	ring.Keys[id] = key
	if ring.Current == "" {
		ring.Current = id // a cluster made before the vault: its first key
	}
	if err := s.pushKeys(ctx, servers, ring, false); err != nil {
		return RotateVaultResult{}, fmt.Errorf("hand the new key to every server (nothing re-encrypted): %w", err)
	}
	// A secret set between the read and the commit is skipped as stale,
	// still sealed under the old key: seal again before retiring it.
	var res RotateVaultResult
	for attempt := 0; ; attempt++ {
		res, err = s.reseal(ctx, id)
		if err != nil {
			return res, err
		}
		if len(res.Stale) == 0 {
			break
		}
		if attempt == maxResealRounds {
			return res, errorf(CodeConflict, "secrets %v kept changing during the rotation; the old key is kept: run rotate-key again", res.Stale)
		}
	}
	final := VaultKeys{Current: id, Keys: map[string][]byte{id: key}}
	if err := s.pushKeys(ctx, servers, final, true); err != nil {
		return res, fmt.Errorf("re-encrypted, but retiring the old key failed (run rotate-key again): %w", err)
	}
	return res, nil
}

// maxResealRounds bounds how often a rotation re-reads secrets that
// changed under it: each round only races the sets of one Raft round.
const maxResealRounds = 5

// reseal re-encrypts every secret under key id and commits it.
func (s *Store) reseal(ctx context.Context, id string) (RotateVaultResult, error) {
	if _, err := s.WaitConsistent(ctx); err != nil {
		return RotateVaultResult{}, err
	}
	var all []*Secret
	s.fsm.read(func(st *state) {
		for _, sec := range st.secrets {
			c := *sec
			all = append(all, &c)
		}
	})
	cmd := RotateVaultCmd{KeyID: id}
	for _, sec := range all {
		plain, err := s.vault.open(sec.KeyID, sec.Name, sec.Ciphertext)
		if err != nil {
			return RotateVaultResult{}, fmt.Errorf("rotate: %w", err)
		}
		sealed, err := s.vault.seal(id, sec.Name, plain)
		if err != nil {
			return RotateVaultResult{}, fmt.Errorf("rotate: %w", err)
		}
		cmd.Secrets = append(cmd.Secrets, RotatedSecret{Name: sec.Name, Version: sec.Version, Ciphertext: sealed})
	}
	return apply[RotateVaultResult](ctx, s, cmdRotateVault, cmd)
}

// vaultServers lists every server of the Raft configuration with the
// address its internal endpoints answer on.
func (s *Store) vaultServers() ([]NodeInfo, error) {
	cfg, err := s.configuration()
	if err != nil {
		return nil, err
	}
	var out []NodeInfo
	for _, srv := range cfg.Servers {
		n, ok := s.node(string(srv.ID))
		if !ok || n.HTTPAddr == "" {
			return nil, errorf(CodeConflict, "server %s has not registered its address: cannot hand it the new vault key", srv.ID)
		}
		out = append(out, n)
	}
	return out, nil
}

func (s *Store) pushKeys(ctx context.Context, servers []NodeInfo, ring VaultKeys, replace bool) error {
	var errs []error
	for _, srv := range servers {
		var err error
		if srv.Name == s.cfg.Name {
			err = s.vault.install(ring, replace)
		} else {
			err = s.cfg.VaultPusher.PushVaultKeys(ctx, srv, ring, replace)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("server %s: %w", srv.Name, err))
		}
	}
	return errors.Join(errs...)
}
