package client

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/casare/casare/api/wire"
)

// maxEventBytes bounds one Server-Sent Event: one log line.
const maxEventBytes = 4 << 20

// JobLogs returns one page of the lines Raft keeps of a job's log,
// starting at offset; limit 0 takes the server's default (all kept
// lines).
func (c jobService) JobLogs(ctx context.Context, id string, offset, limit int, opts ...CallOption) (wire.JobLogs, error) {
	var out wire.JobLogs
	query := url.Values{"offset": {strconv.Itoa(offset)}}
	if limit > 0 {
		query.Set("limit", strconv.Itoa(limit))
	}
	err := c.call(ctx, request{
		method: http.MethodGet, path: "/api/v1/jobs/" + url.PathEscape(id) + "/logs", query: query, opts: opts,
	}, &out)
	return out, err
}

// FollowJobLogs streams a job's log from offset, calling onLine for every
// line, until the job finishes, and returns how it finished. It returns
// early when ctx ends or onLine fails. The stream has no client timeout:
// bound it with ctx.
func (c jobService) FollowJobLogs(ctx context.Context, id string, offset int, onLine func(wire.LogLine) error) (wire.JobLogsEnd, error) {
	var end wire.JobLogsEnd
	path := "/api/v1/jobs/" + url.PathEscape(id) + "/logs"
	query := url.Values{"follow": {"true"}, "offset": {strconv.Itoa(offset)}}
	resp, err := c.send(ctx, c.unbounded(), request{method: http.MethodGet, path: path, query: query}, "text/event-stream")
	if err != nil {
		return end, err
	}
	defer resp.Body.Close()
	err = readEvents(resp.Body, func(name string, data []byte) (bool, error) {
		switch name {
		case "line":
			var line wire.LogLine
			if err := json.Unmarshal(data, &line); err != nil {
				return false, fmt.Errorf("decode log line: %w", err)
			}
			return false, onLine(line)
		case "end":
			if err := json.Unmarshal(data, &end); err != nil {
				return false, fmt.Errorf("decode end of log: %w", err)
			}
			return true, nil
		}
		return false, nil // an event a newer server sends; not for us
	})
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return end, fmt.Errorf("follow job %s: the stream ended before the job finished", id)
	case err != nil:
		return end, fmt.Errorf("follow job %s: %w", id, err)
	}
	return end, nil
}

// readEvents parses a Server-Sent Events stream and hands each event to
// handle until handle says it is done. A stream that ends first yields
// io.ErrUnexpectedEOF.
func readEvents(r io.Reader, handle func(name string, data []byte) (done bool, err error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	var name string
	var data bytes.Buffer
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) == 0: // a blank line ends the event
			if name != "" || data.Len() > 0 {
				done, err := handle(cmp.Or(name, "message"), data.Bytes())
				if done || err != nil {
					return err
				}
			}
			name = ""
			data.Reset()
		case line[0] == ':': // a comment, such as a keep-alive
		default:
			field, value, _ := bytes.Cut(line, []byte(":"))
			value = bytes.TrimPrefix(value, []byte(" "))
			switch string(field) {
			case "event":
				name = string(value)
			case "data":
				if data.Len() > 0 {
					data.WriteByte('\n')
				}
				data.Write(value)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
