package api

import (
	"cmp"
	"strings"
	"time"

	"github.com/casare/casare/consensus"
)

// Job defaults.
const (
	defaultPriority = 5
	maxKeyLen       = 255
)

// jobSpec checks the fields of a job request, other than workflow_id and
// the job id, and builds the spec the store queues. prefix locates the
// request inside a batch ("jobs[3].") so errors name the right field.
func jobSpec(req JobRequest, prefix string) (consensus.JobSpec, error) {
	spec := consensus.JobSpec{
		WorkflowID: req.WorkflowID, WorkflowVersion: req.WorkflowVersion,
		Priority: defaultPriority, ExecutionMode: cmp.Or(req.ExecutionMode, consensus.ModeAny),
		RobotTags: req.RobotTags, PinnedRobot: req.PinnedRobot, UniqueKey: req.UniqueKey,
	}
	if req.WorkflowVersion < 0 {
		return spec, invalidField(prefix+"workflow_version", "must be 1 or more (or absent for the latest), not %d", req.WorkflowVersion)
	}
	if req.Priority != nil {
		if *req.Priority < 0 || *req.Priority > 9 {
			return spec, invalidField(prefix+"priority", "must be between 0 and 9, not %d", *req.Priority)
		}
		spec.Priority = *req.Priority
	}
	if !consensus.ValidMode(spec.ExecutionMode) {
		return spec, invalidField(prefix+"execution_mode", "must be lan, internet or any, not %q", req.ExecutionMode)
	}
	if req.MaxAttempts != nil {
		if *req.MaxAttempts < 1 {
			return spec, invalidField(prefix+"max_attempts", "must be 1 or more, not %d", *req.MaxAttempts)
		}
		spec.MaxAttempts = *req.MaxAttempts
	}
	if !isAbsent(req.Params) {
		if !isJSONObject(req.Params) {
			return spec, invalidField(prefix+"params", "must be a JSON object")
		}
		params, err := CanonicalJSON(req.Params)
		if err != nil {
			return spec, invalidField(prefix+"params", "%v", err)
		}
		spec.Params = params
	}
	if len(req.UniqueKey) > maxKeyLen {
		return spec, invalidField(prefix+"unique_key", "is longer than %d bytes", maxKeyLen)
	}
	// Each check below passes an absent field; skipping them then spares
	// a batch the field names, seven strings a job (40% of a batched
	// submit's allocations in BenchmarkPostJobsBatch).
	if len(req.RobotTags) > 0 {
		if err := checkTags(prefix+"robot_tags", req.RobotTags); err != nil {
			return spec, err
		}
	}
	if req.PinnedRobot != "" {
		if err := checkName(prefix+"pinned_robot", req.PinnedRobot); err != nil {
			return spec, err
		}
	}
	if req.UniqueKey != "" {
		if err := checkName(prefix+"unique_key", req.UniqueKey); err != nil {
			return spec, err
		}
	}
	var err error
	if req.Backoff != "" {
		if spec.Backoff, err = parseBackoff(prefix+"backoff", req.Backoff); err != nil {
			return spec, err
		}
	}
	if req.NotBefore != "" {
		if spec.NotBefore, err = parseTime(prefix+"not_before", req.NotBefore); err != nil {
			return spec, err
		}
	}
	if req.Deadline != "" {
		if spec.Deadline, err = parseTime(prefix+"deadline", req.Deadline); err != nil {
			return spec, err
		}
	}
	if !spec.Deadline.IsZero() && !spec.NotBefore.IsZero() && !spec.Deadline.After(spec.NotBefore) {
		return spec, invalidField(prefix+"deadline", "must be after not_before")
	}
	if req.Debug != nil {
		if spec.Debug, err = debugOptions(prefix+"debug", req.Debug); err != nil {
			return spec, err
		}
	}
	return spec, nil
}

// parseDuration reads an optional Go duration such as "90s" or "1h30m".
func parseDuration(field, value string) (time.Duration, error) {
	if value == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(value)
	if err != nil {
		return 0, invalidField(field, "must be a duration such as 30s, 5m or 1h30m, not %q", value)
	}
	if d < 0 {
		return 0, invalidField(field, "must not be negative, not %s", value)
	}
	return d, nil
}

// parseBackoff reads a job's first retry delay. Retries wait at most
// consensus.MaxBackoff, so a longer base could never take effect.
func parseBackoff(field, value string) (consensus.Duration, error) {
	d, err := parseDuration(field, value)
	if err != nil {
		return 0, err
	}
	if d > consensus.MaxBackoff {
		return 0, invalidField(field, "must be at most %s, not %s", consensus.MaxBackoff, value)
	}
	return consensus.Duration(d), nil
}

// parseTime reads an optional RFC 3339 timestamp.
func parseTime(field, value string) (time.Time, error) {
	if value == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return time.Time{}, invalidField(field, "must be an RFC 3339 timestamp such as 2030-01-02T15:04:05Z, not %q", value)
	}
	return t.UTC(), nil
}

// idempotencyKey reads the optional Idempotency-Key header.
func idempotencyKey(header string) (string, error) {
	key := strings.TrimSpace(header)
	if len(key) > maxKeyLen {
		return "", invalidField("Idempotency-Key", "header is longer than %d bytes", maxKeyLen)
	}
	return key, checkName("Idempotency-Key", key)
}
