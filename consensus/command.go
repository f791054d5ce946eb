package consensus

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// commandType is the first byte of every log entry. Types are append-only:
// a number, once released, keeps its meaning forever.
type commandType byte

const (
	cmdPutWorkflow    commandType = 1
	cmdDeleteWorkflow commandType = 2
	cmdSubmitJobs     commandType = 3
	cmdCancelJob      commandType = 4
	cmdRegisterNode   commandType = 5
	cmdClaimJobs      commandType = 6
	cmdProgress       commandType = 7
	cmdCompleteJobs   commandType = 8
	cmdExpireLeases   commandType = 9
	cmdRobotGone      commandType = 10
	cmdPause          commandType = 11
	cmdSettings       commandType = 12
	cmdRerun          commandType = 13
	cmdCreateToken    commandType = 14
	cmdRevokeToken    commandType = 15
	cmdRobotStatus    commandType = 16
	cmdPutSchedule    commandType = 17
	cmdEnableSchedule commandType = 18
	cmdDeleteSchedule commandType = 19
	cmdFireSchedule   commandType = 20
	// cmdNoop changes nothing; it measures the raw cost of a Raft round.
	cmdNoop commandType = 21
	// cmdHandBack returns leased jobs to the queue without spending an
	// attempt: a robot leaving gracefully did not fail them.
	cmdHandBack commandType = 22
	// cmdSubmitGroups carries submits a node merged into one entry.
	cmdSubmitGroups commandType = 23
	// cmdReportCrash reports runs that died with their robot's process.
	cmdReportCrash commandType = 24
	// cmdPruneJobs removes finished jobs past retention.
	cmdPruneJobs commandType = 25
	// cmdDrainRobot stops (or restarts) a robot's claims.
	cmdDrainRobot commandType = 26
	// cmdRecallJobs takes a robot's running jobs back into the queue.
	cmdRecallJobs commandType = 27
	// The vault: sealed secrets and the re-encryption of a key rotation.
	cmdPutSecret    commandType = 28
	cmdDeleteSecret commandType = 29
	cmdRotateVault  commandType = 30
	// API credentials: tokens with roles, browser sessions and one-time
	// sign-in codes.
	cmdCreateAPIToken commandType = 31
	cmdRevokeAPIToken commandType = 32
	cmdRedeemCode     commandType = 33
	// cmdLogsArchived says how much of jobs' logs the archive holds.
	cmdLogsArchived commandType = 60
	// cmdStopKeepingLogs says no archiver runs any more (archive_logs.go).
	cmdStopKeepingLogs commandType = 70
	// cmdRerunResealed is a re-run carrying parameters sealed again.
	cmdRerunResealed commandType = 76
	// Robot calls a node merged into one entry (robot_groups.go):
	// heartbeats and completions of many robots, and their claims.
	cmdRobotReports commandType = 61
	cmdClaimGroups  commandType = 62
	// cmdRobotWork carries reports and internet robots' claims together
	// (robot_work.go).
	cmdRobotWork commandType = 77
)

// headerLen is the envelope header: one type byte, then the leader's
// clock as Unix nanoseconds.
const headerLen = 9

// handler applies one decoded command to the state. A returned error is a
// business-rule result handed back to the caller, never a replication
// failure.
type handler func(s *state, c applyContext, payload []byte) (any, error)

// applyContext is what Apply knows besides the payload: the Raft index of
// the entry and the time the leader stamped into it.
type applyContext struct {
	index uint64
	now   time.Time
	// replay is set for entries that were in the log when this process
	// opened it: no caller here waits for their results, so handlers may
	// skip building them (a restart replays a million queued jobs).
	replay bool
	// following is set when this node was not the leader as the entry
	// was applied: a follower's results go to no one. A caller that
	// appended the entry while leading and lost the leadership before
	// it applied may still be waiting; a handler that skips its result
	// answers it CodeNotLeader (errFollowing), and the caller's retry
	// gets the first outcome by the ids the command carries.
	following bool
	// decoded is the entry's command when this node decoded it already
	// (predecoded.go), else nil.
	decoded any
}

// errFollowing answers a command whose result a follower did not build.
func errFollowing() error {
	return errorf(CodeNotLeader, "the entry was applied after this node stopped leading")
}

// handlers maps each command type to its handler; see registry().
type handlers map[commandType]handler

func registry() handlers {
	return handlers{
		cmdPutWorkflow:     decoded(jobsApply.putWorkflow),
		cmdDeleteWorkflow:  decoded(jobsApply.deleteWorkflow),
		cmdSubmitJobs:      decoded(jobsApply.submitJobs),
		cmdCancelJob:       decoded(jobsApply.cancelJob),
		cmdRegisterNode:    decoded(accessApply.registerNode),
		cmdClaimJobs:       decoded(queueApply.claimJobs),
		cmdProgress:        decoded(queueApply.progress),
		cmdCompleteJobs:    decoded(queueApply.completeJobs),
		cmdExpireLeases:    decoded(queueApply.expireLeases),
		cmdRobotGone:       decoded(queueApply.robotGone),
		cmdPause:           decoded(jobsApply.pause),
		cmdSettings:        decoded(jobsApply.setSettings),
		cmdRerun:           decoded(jobsApply.rerun),
		cmdRerunResealed:   decoded(jobsApply.rerunResealed),
		cmdCreateToken:     decoded(accessApply.createToken),
		cmdRevokeToken:     decoded(accessApply.revokeToken),
		cmdRobotStatus:     decoded(accessApply.robotStatus),
		cmdPutSchedule:     decoded(scheduleApply.putSchedule),
		cmdEnableSchedule:  decoded(scheduleApply.enableSchedule),
		cmdDeleteSchedule:  decoded(scheduleApply.deleteSchedule),
		cmdFireSchedule:    decoded(scheduleApply.fireSchedule),
		cmdNoop:            func(*state, applyContext, []byte) (any, error) { return nil, nil },
		cmdHandBack:        decoded(queueApply.handBack),
		cmdSubmitGroups:    decoded(jobsApply.submitGroups),
		cmdReportCrash:     decoded(queueApply.reportCrash),
		cmdPruneJobs:       decoded(jobsApply.pruneJobs),
		cmdDrainRobot:      decoded(queueApply.drainRobot),
		cmdRecallJobs:      decoded(queueApply.recallJobs),
		cmdPutSecret:       decoded(accessApply.putSecret),
		cmdDeleteSecret:    decoded(accessApply.deleteSecret),
		cmdRotateVault:     decoded(accessApply.rotateVault),
		cmdCreateAPIToken:  decoded(accessApply.createAPIToken),
		cmdRevokeAPIToken:  decoded(accessApply.revokeAPIToken),
		cmdRedeemCode:      decoded(accessApply.redeemCode),
		cmdLogsArchived:    decoded(jobsApply.logsArchived),
		cmdStopKeepingLogs: decoded(jobsApply.stopKeepingLogs),
		cmdDebugJob:        decoded(jobsApply.debugJob),
		cmdRobotReports:    decoded(queueApply.robotReports),
		cmdClaimGroups:     decoded(queueApply.claimGroups),
		cmdRobotWork:       decoded(queueApply.robotWork),
	}
}

// decodeError marks an entry this binary cannot decode. Every replica
// of the same build decodes the same bytes the same way, so each skips
// the entry alike and none diverges.
type decodeError struct {
	typ commandType
	err error
}

func (e *decodeError) Error() string {
	return fmt.Sprintf("decode command type %d: %v (is this node running an older version?)", e.typ, e.err)
}

// panicError marks an entry whose handler panicked. The handler is a
// bug, but the same bytes panic the same way on every replica, so
// skipping the entry keeps them equal where a crash would stop them all.
type panicError struct {
	typ   commandType
	value any
}

func (e *panicError) Error() string {
	return fmt.Sprintf("command type %d: handler panicked: %v", e.typ, e.value)
}

// decoded adapts a typed handler, a method of one of the concern types
// in apply_parts.go, to the byte-level handler signature.
// With a nil state it only decodes, and returns the command: that is how
// check tries an entry. A command in c.decoded is used as it is.
func decoded[G ~struct{ *state }, T any, R any](fn func(G, applyContext, *T) (R, error)) handler {
	return func(s *state, c applyContext, payload []byte) (any, error) {
		cmd, ok := c.decoded.(*T)
		if !ok {
			cmd = new(T)
			if err := decodePayload(payload, cmd); err != nil {
				return nil, &decodeError{err: err}
			}
		}
		if s == nil {
			return cmd, nil
		}
		return fn(G{s}, c, cmd)
	}
}

// encodeCommand builds an envelope. The time field is left zero; the
// leader stamps it just before appending the entry to its log.
func encodeCommand(typ commandType, cmd any) ([]byte, error) {
	if c, ok := cmd.(SubmitGroupsCmd); ok {
		if buf, ok := c.appendFast(make([]byte, headerLen, headerLen+submitEncodedSize(c.Groups))); ok {
			buf[0] = byte(typ)
			return buf, nil
		}
	}
	if c, ok := cmd.(RobotWorkCmd); ok {
		if buf, ok := c.appendFast(make([]byte, headerLen, headerLen+256*(len(c.Reports)+len(c.Claims)))); ok {
			buf[0] = byte(typ)
			return buf, nil
		}
	}
	if c, ok := cmd.(RobotReportsCmd); ok {
		if buf, ok := c.appendFast(make([]byte, headerLen, headerLen+256*len(c.Reports))); ok {
			buf[0] = byte(typ)
			return buf, nil
		}
	}
	// The payload is encoded after the header's room: no second copy of
	// a merged entry of a thousand jobs.
	buf, err := encodeJSONAfter(headerLen, cmd)
	if err != nil {
		return nil, fmt.Errorf("encode command type %d: %w", typ, err)
	}
	buf[0] = byte(typ)
	return buf, nil
}

// encodeJSON marshals v without HTML escaping, so that the raw JSON a
// command or snapshot carries (workflow graphs, params) keeps its bytes
// and its checksum.
func encodeJSON(v any) ([]byte, error) { return encodeJSONAfter(0, v) }

// encodeJSONAfter is encodeJSON after room zero bytes.
func encodeJSONAfter(room int, v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(make([]byte, room))
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// stampTime writes the leader's clock into an envelope.
func stampTime(buf []byte, now time.Time) {
	binary.BigEndian.PutUint64(buf[1:headerLen], uint64(now.UnixNano()))
}

// splitCommand takes an envelope apart.
func splitCommand(buf []byte) (commandType, time.Time, []byte, error) {
	if len(buf) < headerLen {
		return 0, time.Time{}, nil, fmt.Errorf("command envelope of %d bytes is shorter than its %d-byte header", len(buf), headerLen)
	}
	nanos := int64(binary.BigEndian.Uint64(buf[1:headerLen]))
	return commandType(buf[0]), time.Unix(0, nanos).UTC(), buf[headerLen:], nil
}

// check refuses an envelope that no node of this version could apply: a
// type it does not know or a payload that does not decode as its type.
// The leader checks every entry a follower forwards, so that such an
// entry never reaches the log; one that does anyway is skipped by every
// replica alike (see fsm.applyCommand). It returns the decoded command,
// which the apply of the same bytes here reuses (predecoded.go).
func (h handlers) check(data []byte) (any, error) {
	typ, _, payload, err := splitCommand(data)
	if err != nil {
		return nil, err
	}
	fn, ok := h[typ]
	if !ok {
		return nil, fmt.Errorf("unknown command type %d (is the sending node running a newer version?)", typ)
	}
	cmd, err := fn(nil, applyContext{}, payload)
	var de *decodeError
	if errors.As(err, &de) {
		de.typ = typ
		return nil, de
	}
	return cmd, nil
}

// apply decodes one envelope and runs its handler. err is a business
// result for the caller; skipped means the entry could not be applied at
// all (it does not decode, its type is unknown, or its handler
// panicked), which every replica decides alike from the entry's bytes.
func (h handlers) apply(s *state, c applyContext, data []byte) (v any, err, skipped error) {
	typ, now, payload, err := splitCommand(data)
	if err != nil {
		return nil, nil, err
	}
	fn, ok := h[typ]
	if !ok {
		return nil, nil, fmt.Errorf("unknown command type %d (is this node running an older version?)", typ)
	}
	defer func() {
		if r := recover(); r != nil {
			v, err, skipped = nil, nil, &panicError{typ: typ, value: r}
		}
	}()
	c.now = now
	v, err = fn(s, c, payload)
	var de *decodeError
	if errors.As(err, &de) {
		de.typ = typ
		return nil, nil, de
	}
	return v, err, nil
}
