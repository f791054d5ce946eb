package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Rerun queues a finished job again under cmd.NewID. The old job's
// parameters are copied as they are unless the version the re-run runs
// declares secret a parameter the old job holds in clear (a version
// saved after the job, with --latest), or the old job's are sealed under
// a key the cluster retired: then the server seals them again, as a
// submit does, and the entry carries them (cmdRerunResealed). Without
// that, the FSM would refuse the copy for ever.
func (s JobQueue) Rerun(ctx context.Context, cmd RerunCmd) (Job, error) {
	return withSealedParams(ctx, s.Store, func() (Job, error) {
		resealed, err := s.resealRerun(cmd)
		if err != nil {
			return Job{}, err
		}
		if resealed == nil {
			return apply[Job](ctx, s.Store, cmdRerun, cmd)
		}
		return apply[Job](ctx, s.Store, cmdRerunResealed, *resealed)
	})
}

// resealRerun returns the re-run with its parameters sealed again, or nil
// when the FSM accepts the old job's as they are (or refuses the re-run
// for another reason, which the plain entry then reports).
func (s JobQueue) resealRerun(cmd RerunCmd) (*RerunResealedCmd, error) {
	var spec JobSpec
	var vars []string
	reseal := false
	s.fsm.read(func(st *state) {
		old := st.jobs[cmd.JobID]
		if old == nil || st.jobs[cmd.NewID] != nil {
			return
		}
		spec = rerunSpec(old, cmd)
		err := st.checkSpec(spec)
		reseal = IsCode(err, CodeConflict) && strings.Contains(err.Error(), errParamsResealMsg)
		vars = st.secretVariables(spec.WorkflowID, spec.WorkflowVersion)
	})
	if !reseal {
		return nil, nil
	}
	params, sealed, err := s.rerunParams(spec, vars)
	if err != nil {
		return nil, fmt.Errorf("re-run of job %s: %w", cmd.JobID, err)
	}
	return &RerunResealedCmd{RerunCmd: cmd, Params: params, SealedParams: sealed}, nil
}

// rerunParams seals spec's parameters again under the current key: the
// values sealed before are opened and stay sealed, even if the version
// no longer declares them secret, and the variables of vars are sealed
// with them.
func (s JobQueue) rerunParams(spec JobSpec, vars []string) (params json.RawMessage, sealed *SealedParams, err error) {
	params, names := spec.Params, slices.Clone(vars)
	if sp := spec.SealedParams; sp != nil {
		plain, err := s.vault.open(sp.KeyID, paramsAD, sp.Ciphertext)
		if err != nil {
			return nil, nil, fmt.Errorf("open its secret parameters: %w", err)
		}
		var hidden map[string]json.RawMessage
		if err := json.Unmarshal(plain, &hidden); err != nil {
			return nil, nil, fmt.Errorf("its secret parameters: %w", err)
		}
		for n := range hidden {
			names = append(names, n)
		}
		if params, err = mergeParams(params, plain); err != nil {
			return nil, nil, err
		}
	}
	slices.Sort(names)
	return s.sealParams(params, slices.Compact(names))
}
