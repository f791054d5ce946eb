//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// The submit figures' clients speak HTTP/1.1 themselves, each on its
// own keep-alive connection: the same POST, headers and body the API
// client sends, and the answer read to its end and checked for 201.
// net/http's client hands every request to a connection's writer
// goroutine and every answer back from its reader goroutine, and clones
// the request to add the token: under 64 single-job clients that cost
// the load generator 33–60 µs of CPU a job, a fifth of the machine the
// figure shares with the three nodes. For batches the API client's cost
// is decoding the answer, every job it queued in full: 55% of the load
// generator's CPU, 8.2 µs a job (batched ×100, 3 December 08:54 UTC).
// A 201 says the whole batch was queued (it is one Raft entry; the bench
// sends no Idempotency-Key or unique_key, with which a 201 would also
// answer jobs that were there already), so the count is the batch's
// length and the answer need not be read. A load
// generator should take as little of the machine as it can (as wrk or
// hey do), so that the figure is the nodes'.

// submitter is one closed-loop client's connection to one node.
type submitter struct {
	addr string
	path string
	req  []byte // the whole request, sent as is each time
	conn net.Conn
	r    *bufio.Reader
}

// newSubmitter prepares the request that POSTs body, as JSON, to path on
// the node at addr: a JobRequest to /api/v1/jobs or a BatchJobsRequest
// to /api/v1/jobs/batch.
func newSubmitter(addr, token, path string, body any) (*submitter, error) {
	encoded, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode the body of POST %s: %w", path, err)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: application/json\r\n", path, addr)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(encoded))
	b.Write(encoded)
	return &submitter{addr: addr, path: path, req: b.Bytes()}, nil
}

// submit sends the request and reads the answer. A failed exchange
// closes the connection; the next call dials again.
func (s *submitter) submit(ctx context.Context) error {
	if s.conn == nil {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", s.addr)
		if err != nil {
			return fmt.Errorf("dial %s: %w", s.addr, err)
		}
		// The load's own deadline bounds every exchange on the connection.
		if dl, ok := ctx.Deadline(); ok {
			_ = conn.SetDeadline(dl)
		}
		s.conn, s.r = conn, bufio.NewReaderSize(conn, 4096)
	}
	err := s.exchange()
	if err != nil {
		s.conn.Close()
		s.conn = nil
	}
	return err
}

func (s *submitter) exchange() error {
	if _, err := s.conn.Write(s.req); err != nil {
		return fmt.Errorf("POST %s: %w", s.path, err)
	}
	status, length, err := readHead(s.r)
	if err != nil {
		return fmt.Errorf("POST %s: %w", s.path, err)
	}
	if length < 0 {
		return fmt.Errorf("POST %s: HTTP %d answer without a Content-Length", s.path, status)
	}
	if status != 201 {
		body := make([]byte, min(length, 512))
		_, _ = io.ReadFull(s.r, body)
		return fmt.Errorf("POST %s: HTTP %d: %s", s.path, status, strings.TrimSpace(string(body)))
	}
	if _, err := s.r.Discard(length); err != nil {
		return fmt.Errorf("POST %s: read answer: %w", s.path, err)
	}
	return nil
}

// readHead reads an answer's status line and headers and returns its
// status and Content-Length (-1 when it has none, as a chunked one).
func readHead(r *bufio.Reader) (status, length int, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return 0, 0, err
	}
	// "HTTP/1.1 201 Created\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, fmt.Errorf("malformed status line %q", line)
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, 0, fmt.Errorf("malformed status line %q", line)
	}
	length = -1
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return 0, 0, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return status, length, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if ok && bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil || length < 0 {
				return 0, 0, fmt.Errorf("malformed Content-Length %q", value)
			}
		}
	}
}

// submitters makes one submitter a worker, each on the called nodes (as
// indexes into c.nodes) in turn, all POSTing body to path.
func (c *procCluster) submitters(called []int, workers int, path string, body any) ([]*submitter, error) {
	out := make([]*submitter, workers)
	for w := range out {
		s, err := newSubmitter(c.nodes[called[w%len(called)]].http, c.token, path, body)
		if err != nil {
			return nil, err
		}
		out[w] = s
	}
	return out, nil
}

// closeSubmitters closes the connections the load left open.
func closeSubmitters(subs []*submitter) {
	for _, s := range subs {
		if s.conn != nil {
			s.conn.Close()
		}
	}
}
