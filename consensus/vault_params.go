package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// A workflow's secret_variables are parameters that hold credentials. The
// server that takes the submission moves their values out of the job's
// params into one value sealed with the vault key (Job.SealedParams) and
// leaves "***" in their place, so Raft, snapshots, the API, the event
// stream and the archive hold only the ciphertext and the mask. The
// server that serves the claim opens it and puts the values back into the
// params of the claim it returns to the robot that holds the lease.

// SealedParams is a job's secret parameters, sealed under vault key KeyID:
// a JSON object of the values, by parameter name.
type SealedParams struct {
	KeyID      string `json:"key_id"`
	Ciphertext []byte `json:"ciphertext"`
}

// paramsAD is the additional data of sealed params, so that a secret's
// ciphertext cannot be passed off as a job's params or the other way round.
const paramsAD = "casare/job-params"

// maskedParam is what a secret parameter's value is replaced by.
var maskedParam = json.RawMessage(`"***"`)

// RotatedParams is the secret parameters of one job, or of one
// schedule's job template, re-encrypted by a rotation.
type RotatedParams struct {
	JobID      string `json:"job_id,omitempty"`
	ScheduleID string `json:"schedule_id,omitempty"`
	Ciphertext []byte `json:"ciphertext"`
}

// sealParams moves the values of names out of params: it returns the
// params with each masked and the values sealed, or params unchanged and
// nil when none of names is in them.
func (s Vault) sealParams(params json.RawMessage, names []string) (json.RawMessage, *SealedParams, error) {
	masked, plain, err := splitParams(params, names)
	if err != nil || plain == nil {
		return masked, nil, err
	}
	id, err := s.sealKey()
	if err != nil {
		return nil, nil, err
	}
	sealed, err := s.vault.seal(id, paramsAD, plain)
	if err != nil {
		return nil, nil, fmt.Errorf("seal secret params: %w", err)
	}
	return masked, &SealedParams{KeyID: id, Ciphertext: sealed}, nil
}

// splitParams takes the values of names out of params: it returns the
// params with each masked and the values as a JSON object, or params
// unchanged and nil when none of names is in them.
func splitParams(params json.RawMessage, names []string) (json.RawMessage, []byte, error) {
	if len(names) == 0 || len(params) == 0 {
		return params, nil, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(params, &all); err != nil {
		return nil, nil, errorf(CodeInvalid, "params are not a JSON object: %v", err)
	}
	hidden := map[string]json.RawMessage{}
	for _, n := range names {
		if v, ok := all[n]; ok && !bytes.Equal(v, maskedParam) {
			hidden[n], all[n] = v, maskedParam
		}
	}
	if len(hidden) == 0 {
		return params, nil, nil
	}
	plain, err := json.Marshal(hidden)
	if err != nil {
		return nil, nil, fmt.Errorf("encode secret params: %w", err)
	}
	masked, err := json.Marshal(all)
	if err != nil {
		return nil, nil, fmt.Errorf("encode params: %w", err)
	}
	return masked, plain, nil
}

// mergeParams puts the values splitParams took out back into params.
func mergeParams(params json.RawMessage, plain []byte) (json.RawMessage, error) {
	var hidden, all map[string]json.RawMessage
	if err := json.Unmarshal(plain, &hidden); err != nil {
		return nil, fmt.Errorf("secret parameters: %w", err)
	}
	if err := json.Unmarshal(params, &all); err != nil || all == nil {
		all = map[string]json.RawMessage{}
	}
	for n, v := range hidden {
		all[n] = v
	}
	out, err := json.Marshal(all)
	if err != nil {
		return nil, fmt.Errorf("secret parameters: %w", err)
	}
	return out, nil
}

// sealSpecs seals the secret parameters of specs, each under the secret
// variables of the version it will run (vars returns them). A spec that
// is sealed already (a retry) is left alone.
func (s Vault) sealSpecs(specs []JobSpec, vars func(JobSpec) []string) ([]JobSpec, error) {
	var out []JobSpec
	for i, spec := range specs {
		if spec.SealedParams != nil {
			continue
		}
		names := vars(spec)
		if len(names) == 0 {
			continue
		}
		params, sealed, err := s.sealParams(spec.Params, names)
		if err != nil {
			return nil, fmt.Errorf("job %d: %w", i, err)
		}
		if sealed == nil {
			continue
		}
		if out == nil {
			out = slices.Clone(specs)
		}
		out[i].Params, out[i].SealedParams = params, sealed
	}
	if out == nil {
		return specs, nil
	}
	return out, nil
}

// specSecretVariables returns, for each of specs, the secret variables
// of the version it runs: the one it names, else the latest. It reads the
// state once for a whole batch, so a submission without secret variables
// costs one read lock. The FSM refuses a spec should a newer version
// declare more before the entry applies (checkSpecParams).
func (s Vault) specSecretVariables(specs []JobSpec) func(JobSpec) []string {
	type key struct {
		id      string
		version int
	}
	vars := map[key][]string{}
	s.fsm.read(func(st *state) {
		for _, spec := range specs {
			k := key{spec.WorkflowID, spec.WorkflowVersion}
			if _, done := vars[k]; done {
				continue
			}
			vars[k] = st.secretVariables(spec.WorkflowID, spec.WorkflowVersion)
		}
	})
	return func(spec JobSpec) []string { return vars[key{spec.WorkflowID, spec.WorkflowVersion}] }
}

// secretVariables returns a copy of the secret variables of a workflow's
// version (0: the latest), nil when it has none or does not exist.
func (s *state) secretVariables(workflowID string, version int) []string {
	wf := s.workflows[workflowID]
	if wf == nil || len(wf.Versions) == 0 {
		return nil
	}
	v, ok := wf.Latest(), true
	if version != 0 {
		v, ok = wf.Version(version)
	}
	if !ok || len(v.SecretVariables) == 0 {
		return nil
	}
	return slices.Clone(v.SecretVariables)
}

// checkSpecParams refuses a spec that carries a secret variable of the
// version it runs in clear, or sealed under a key the cluster retired: the
// submitting server seals it again and retries.
func (s *state) checkSpecParams(spec *JobSpec, vars []string) error {
	if spec.SealedParams != nil && s.vaultKeyID != "" && spec.SealedParams.KeyID != s.vaultKeyID {
		return errorf(CodeConflict, "%s: sealed under vault key %s, but the cluster now uses %s", errParamsResealMsg, spec.SealedParams.KeyID, s.vaultKeyID)
	}
	if len(vars) == 0 || len(spec.Params) == 0 {
		return nil
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(spec.Params, &all) != nil {
		return nil // params are checked where they enter; nothing to hide
	}
	for _, n := range vars {
		if v, ok := all[n]; ok && !bytes.Equal(v, maskedParam) {
			return errorf(CodeConflict, "%s: parameter %q is a secret variable of the workflow version and arrived unsealed", errParamsResealMsg, n)
		}
	}
	return nil
}

// errParamsResealMsg starts the conflicts a submitting server answers by
// sealing the parameters again.
const errParamsResealMsg = "job parameters must be sealed again"

// openParams puts a claimed job's secret parameters back into its params.
func (s Vault) openParams(c *ClaimedJob) error {
	sp := c.Job.SealedParams
	c.Job.SealedParams = nil
	if sp == nil {
		return nil
	}
	plain, err := s.vault.open(sp.KeyID, paramsAD, sp.Ciphertext)
	if err != nil {
		return fmt.Errorf("server %s cannot open the job's secret parameters: %w", s.cfg.Name, err)
	}
	params, err := mergeParams(c.Job.Params, plain)
	if err != nil {
		return err
	}
	c.Job.Params = params
	return nil
}

// resealParams re-encrypts the secret parameters of every job and
// schedule under key id.
func (s Vault) resealParams(id string) ([]RotatedParams, error) {
	type sealed struct {
		at RotatedParams
		sp SealedParams
	}
	var all []sealed
	s.fsm.read(func(st *state) {
		for _, j := range st.jobs {
			if j.SealedParams != nil && j.SealedParams.KeyID != id {
				all = append(all, sealed{RotatedParams{JobID: j.ID}, *j.SealedParams})
			}
		}
		for _, sc := range st.schedules {
			if sp := sc.Template.SealedParams; sp != nil && sp.KeyID != id {
				all = append(all, sealed{RotatedParams{ScheduleID: sc.ID}, *sp})
			}
		}
	})
	out := make([]RotatedParams, 0, len(all))
	for _, e := range all {
		plain, err := s.vault.open(e.sp.KeyID, paramsAD, e.sp.Ciphertext)
		if err != nil {
			return nil, fmt.Errorf("rotate: secret parameters of %s%s: %w", e.at.JobID, e.at.ScheduleID, err)
		}
		e.at.Ciphertext, err = s.vault.seal(id, paramsAD, plain)
		if err != nil {
			return nil, fmt.Errorf("rotate: %w", err)
		}
		out = append(out, e.at)
	}
	return out, nil
}

// rotateParams applies a rotation to jobs' sealed parameters and reports,
// as stale, jobs still sealed under another key (submitted under the old
// key after the rotation read the state).
func (s accessApply) rotateParams(cmd *RotateVaultCmd, res *RotateVaultResult) {
	for _, r := range cmd.Params {
		sp := &SealedParams{KeyID: cmd.KeyID, Ciphertext: slices.Clone(r.Ciphertext)}
		if j := s.jobs[r.JobID]; j != nil && j.SealedParams != nil {
			s.mutableJob(j).SealedParams = sp
		}
		if sc := s.schedules[r.ScheduleID]; sc != nil && sc.Template.SealedParams != nil {
			sc.Template.SealedParams = sp
		}
	}
	for _, j := range s.jobs {
		if j.SealedParams != nil && j.SealedParams.KeyID != cmd.KeyID {
			res.Stale = append(res.Stale, "job "+j.ID)
		}
	}
	for _, sc := range s.schedules {
		if sp := sc.Template.SealedParams; sp != nil && sp.KeyID != cmd.KeyID {
			res.Stale = append(res.Stale, "schedule "+sc.ID)
		}
	}
	slices.Sort(res.Stale) // the same answer from every replica
}

// withSealedParams runs write, which seals parameters and commits them,
// again when the FSM asks for them to be sealed again: a rotation or a new
// workflow version committed between the sealing and the entry.
func withSealedParams[T any](ctx context.Context, s *Store, write func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		out, err := write()
		if attempt == 3 || !IsCode(err, CodeConflict) || !strings.Contains(err.Error(), errParamsResealMsg) {
			return out, err
		}
		// Let this replica apply what changed before sealing again.
		if _, werr := s.WaitConsistent(ctx); werr != nil {
			return out, werr
		}
	}
}
