package consensus

import "encoding/json"

// Every replica decodes every robot reports entry (the heartbeats and
// completions of all the robots a node serves), and the leader decodes a
// forwarded one once more to check it: under end-to-end load their
// reflection-driven json.Unmarshal was the largest cost of the apply,
// 14–16% of a node's CPU (bench/queue -cpuprofile). decodeFast reads the
// form nodes write (encodeJSON: known keys in lower case, plain strings,
// integers and booleans) and leaves anything else to json.Unmarshal, as
// the submit decoder does (submit_decode.go): a null, an escape in a
// string, a key it does not know or sees twice, a debug report.
// FuzzRobotReportsFastDecode holds it to json.Unmarshal.

func (c *RobotReportsCmd) decodeFast(payload []byte) bool {
	return decodeWhole(payload, c, (*specDecoder).readReports)
}

func (d *specDecoder) readReports(c *RobotReportsCmd) bool {
	return d.Object([]string{"reports"}, func(int) bool {
		c.Reports = []RobotReport{}
		return d.Array(func() bool {
			c.Reports = append(c.Reports, RobotReport{})
			return d.readReport(&c.Reports[len(c.Reports)-1])
		})
	})
}

func (d *specDecoder) readReport(r *RobotReport) bool {
	return d.Object([]string{"progress", "complete"}, func(i int) bool {
		if i == 0 {
			r.Progress = &ProgressCmd{}
			return d.readProgressCmd(r.Progress)
		}
		r.Complete = &CompleteCmd{}
		return d.readComplete(r.Complete)
	})
}

func (d *specDecoder) readComplete(c *CompleteCmd) bool {
	return readRobotItems(d, &c.RobotID, &c.Items, d.readCompletion)
}

func (d *specDecoder) readProgressCmd(c *ProgressCmd) bool {
	return readRobotItems(d, &c.RobotID, &c.Items, d.readProgress)
}

// readRobotItems reads {"robot_id":"...","items":[...]}, a robot's batch
// of completions or heartbeats.
func readRobotItems[T any](d *specDecoder, robotID *string, items *[]T, read func(*T) bool) bool {
	return d.Object([]string{"robot_id", "items"}, func(i int) bool {
		if i == 0 {
			return d.readStringTo(robotID)
		}
		*items = []T{}
		return d.Array(func() bool {
			*items = append(*items, *new(T))
			return read(&(*items)[len(*items)-1])
		})
	})
}

// decodeFast reads a ProgressCmd as robots write it: an internet robot's
// heartbeats and log lines reach the gateway in this form (DecodeJSON).
// FuzzProgressCmdFastDecode holds it to json.Unmarshal.
func (c *ProgressCmd) decodeFast(payload []byte) bool {
	return decodeWhole(payload, c, (*specDecoder).readProgressCmd)
}

// decodeFast reads a CompleteCmd as robots write it: an internet robot
// sends its completions in this form over the tunnel, where the
// gateway's json.Unmarshal of them was 4% of the internet dispatch
// bench's CPU (DecodeJSON). FuzzCompleteCmdFastDecode holds it to
// json.Unmarshal.
func (c *CompleteCmd) decodeFast(payload []byte) bool {
	return decodeWhole(payload, c, (*specDecoder).readComplete)
}

func (d *specDecoder) readProgress(p *Progress) bool {
	return d.Object([]string{"job_id", "token", "checkpoint", "logs", "node_status", "logs_end"}, func(i int) bool {
		switch i {
		case 0:
			return d.readStringTo(&p.JobID)
		case 1:
			return d.readUint(&p.Token)
		case 2:
			return d.readRawTo(&p.Checkpoint)
		case 3:
			return d.readLogs(&p.Logs)
		case 4:
			return d.readStringMap(&p.NodeStatus)
		default:
			return d.readInt(&p.LogsEnd)
		}
	})
}

func (d *specDecoder) readCompletion(c *Completion) bool {
	fields := []string{"job_id", "token", "succeeded", "result", "error", "failure_kind", "checkpoint", "logs", "node_status", "store_secrets", "logs_end"}
	return d.Object(fields, func(i int) bool {
		switch i {
		case 0:
			return d.readStringTo(&c.JobID)
		case 1:
			return d.readUint(&c.Token)
		case 2:
			return d.readBool(&c.Succeeded)
		case 3:
			return d.readRawTo(&c.Result)
		case 4:
			return d.readStringTo(&c.Error)
		case 5:
			return d.readStringTo(&c.FailureKind)
		case 6:
			return d.readRawTo(&c.Checkpoint)
		case 7:
			return d.readLogs(&c.Logs)
		case 8:
			return d.readStringMap(&c.NodeStatus)
		case 9:
			return d.readStringMap(&c.StoreSecrets)
		default:
			return d.readInt(&c.LogsEnd)
		}
	})
}

func (d *specDecoder) readLogs(logs *[]LogLine) bool {
	*logs = []LogLine{}
	return d.Array(func() bool {
		*logs = append(*logs, LogLine{})
		l := &(*logs)[len(*logs)-1]
		return d.Object([]string{"time", "level", "node_id", "message"}, func(i int) bool {
			switch i {
			case 0:
				return d.readUnmarshaler(&l.Time)
			case 1:
				return d.readStringTo(&l.Level)
			case 2:
				return d.readStringTo(&l.NodeID)
			default:
				return d.readStringTo(&l.Message)
			}
		})
	})
}

// readStringMap reads {"key":"value",...}; a key seen twice keeps its
// last value, as json.Unmarshal does.
func (d *specDecoder) readStringMap(m *map[string]string) bool {
	if !d.Next('{') {
		return false
	}
	*m = map[string]string{}
	if d.Next('}') {
		return true
	}
	for {
		key, ok := d.String()
		if !ok || !d.Next(':') {
			return false
		}
		value, ok := d.String()
		if !ok {
			return false
		}
		(*m)[key] = value
		if d.Next('}') {
			return true
		}
		if !d.Next(',') {
			return false
		}
	}
}

func (d *specDecoder) readBool(dst *bool) bool {
	v, ok := d.Bool()
	*dst = v
	return ok
}

func (d *specDecoder) readUint(dst *uint64) bool {
	v, ok := d.Uint()
	*dst = v
	return ok
}

// readRawTo reads a value as a copy of its bytes, as json.RawMessage does.
func (d *specDecoder) readRawTo(dst *json.RawMessage) bool {
	raw, ok := d.Raw()
	*dst = append([]byte(nil), raw...)
	return ok
}
