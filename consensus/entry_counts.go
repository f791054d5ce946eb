package consensus

import "fmt"

// commandNames name the command types in counts and metrics.
var commandNames = map[commandType]string{
	cmdPutWorkflow: "put_workflow", cmdDeleteWorkflow: "delete_workflow", cmdSubmitJobs: "submit_jobs",
	cmdCancelJob: "cancel_job", cmdRegisterNode: "register_node", cmdClaimJobs: "claim_jobs",
	cmdProgress: "progress", cmdCompleteJobs: "complete_jobs", cmdExpireLeases: "expire_leases",
	cmdRobotGone: "robot_gone", cmdPause: "pause", cmdSettings: "settings", cmdRerun: "rerun",
	cmdCreateToken: "create_token", cmdRevokeToken: "revoke_token", cmdRobotStatus: "robot_status",
	cmdPutSchedule: "put_schedule", cmdEnableSchedule: "enable_schedule", cmdDeleteSchedule: "delete_schedule",
	cmdFireSchedule: "fire_schedule", cmdNoop: "noop", cmdHandBack: "hand_back", cmdSubmitGroups: "submit_groups",
	cmdReportCrash: "report_crash", cmdPruneJobs: "prune_jobs", cmdDrainRobot: "drain_robot",
	cmdRecallJobs: "recall_jobs", cmdPutSecret: "put_secret", cmdDeleteSecret: "delete_secret",
	cmdRotateVault: "rotate_vault", cmdCreateAPIToken: "create_api_token", cmdRevokeAPIToken: "revoke_api_token",
	cmdRedeemCode: "redeem_code", cmdDebugJob: "debug_job", cmdLogsArchived: "logs_archived",
	cmdStopKeepingLogs: "stop_keeping_logs", cmdRerunResealed: "rerun_resealed",
	cmdRobotReports: "robot_reports", cmdClaimGroups: "claim_groups", cmdRobotWork: "robot_work",
	cmdCompressed: "compressed",
}

func (t commandType) String() string {
	if name, ok := commandNames[t]; ok {
		return name
	}
	return fmt.Sprintf("type_%d", byte(t))
}

// entryCounts counts the command entries this replica applied since it
// started, by type: how many entries each kind of write costs (the
// batching of robot calls is measured by it). The FSM's lock guards it.
type entryCounts [256]uint64

func (c *entryCounts) add(data []byte) {
	if len(data) > 0 {
		c[data[0]]++
	}
}

// AppliedEntries returns how many command entries of each type this
// replica has applied since it started, by command name (as in
// "robot_reports"). A restart counts the entries it replays.
func (s Replica) AppliedEntries() map[string]uint64 {
	out := map[string]uint64{}
	s.fsm.read(func(*state) {
		for typ, n := range s.fsm.entries {
			if n > 0 {
				out[commandType(typ).String()] = n
			}
		}
	})
	return out
}
