package consensus

import (
	"context"
	"errors"
	"fmt"
)

// sealedFor is what a claim needs to open one job's secrets.
type sealedFor struct {
	names []string
	keyID []string
	data  [][]byte
	err   string
	kind  string
}

// attachSecrets opens, for each claimed job, the secrets its workflow
// version references and its secret parameters, and puts them into the
// claim. It runs on the server
// that serves the robot's claim, after the claim committed; the values
// exist in clear on this server only for the length of this call and the
// response to the robot.
func (s Vault) attachSecrets(ctx context.Context, jobs []ClaimedJob) error {
	if len(jobs) == 0 || jobs[0].Job.lease() == nil {
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

func (s Vault) openSecrets(c *ClaimedJob, sf sealedFor) {
	if err := s.openParams(c); err != nil {
		c.SecretError, c.SecretErrorKind = err.Error(), FailureApplication
		return
	}
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
