// Package client is the Go client of a Casare cluster's REST API.
//
// It imports only the standard library and the wire types (package
// api/wire), so a program that calls the API does not link the server;
// a test guards that. The node-to-node calls over the internal endpoints
// (forwarding writes to the leader, joining, the queue of a robot-only
// node) are in package node/peer, which builds on this one.
//
// Every method takes a context and honours its cancellation and
// deadline. An error the API answered with is an *APIError carrying the
// HTTP status and the API's error code.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/casare/casare/api/wire"
)

// DefaultTimeout bounds one call of a Client whose context has no
// earlier deadline.
const DefaultTimeout = 60 * time.Second

// maxResponseBytes bounds how much of a response the client reads.
const maxResponseBytes = 64 << 20

// Client talks to one node's API. It is safe for concurrent use and
// reuses connections.
//
// Its methods are grouped by concern on the small types it embeds (jobs,
// workflows, schedules, robots, secrets, cluster, tokens), all sharing one
// connection, so c.SubmitJob and c.Cluster are called on the Client alike.
type Client struct {
	*conn
	jobService
	workflowService
	scheduleService
	robotService
	secretService
	clusterService
	tokenService
}

// conn is one node's address and the HTTP client that reaches it; every
// call of every concern goes through it.
type conn struct {
	base    *url.URL
	baseErr error
	http    *http.Client
}

// Each concern's calls; the Client embeds one of each.
type (
	jobService      struct{ *conn } // jobs, their logs and the queue
	workflowService struct{ *conn }
	scheduleService struct{ *conn }
	robotService    struct{ *conn } // robots, their tokens and drains
	secretService   struct{ *conn }
	clusterService  struct{ *conn } // health, members, snapshots
	tokenService    struct{ *conn } // API tokens and sign-in codes
)

func newClient(cn *conn) *Client {
	return &Client{
		conn: cn, jobService: jobService{cn}, workflowService: workflowService{cn},
		scheduleService: scheduleService{cn}, robotService: robotService{cn}, secretService: secretService{cn},
		clusterService: clusterService{cn}, tokenService: tokenService{cn},
	}
}

// Option configures a Client.
type Option func(*http.Client)

// WithHTTPClient replaces the HTTP client, for TLS settings or tests.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *http.Client) { *c = *hc }
}

// WithDialer replaces how connections are opened: nodes reach each
// other's internal endpoints over the mutual-TLS cluster port
// (clusternet.HTTPDialer), under plain http:// URLs.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(c *http.Client) {
		t := c.Transport.(*http.Transport).Clone()
		t.DialContext = dial
		// The dialer's connection is already TLS; HTTP/2 would need ALPN.
		t.ForceAttemptHTTP2 = false
		c.Transport = t
	}
}

// WithTimeout bounds each call; zero leaves calls bounded only by their
// context.
func WithTimeout(d time.Duration) Option {
	return func(c *http.Client) { c.Timeout = d }
}

// WithToken sends token as "Authorization: Bearer" on every call. Give
// it after WithHTTPClient, which replaces the transport it wraps.
func WithToken(token string) Option {
	return func(c *http.Client) {
		base := c.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		c.Transport = bearerTransport{base: base, token: token}
	}
}

// bearerTransport adds the credential to each request. It clones the
// request, as a RoundTripper must not change the one it is given.
type bearerTransport struct {
	base  http.RoundTripper
	token string
}

func (t bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+t.token)
	return t.base.RoundTrip(r)
}

// New returns a client of the API at baseURL ("http://host:port"; a bare
// "host:port" means http). A malformed URL is reported by every call.
func New(baseURL string, opts ...Option) *Client {
	cn := &conn{http: newHTTPClient(DefaultTimeout, opts)}
	cn.base, cn.baseErr = parseBaseURL(baseURL)
	return newClient(cn)
}

// At returns a client of the node at baseURL that shares c's HTTP client:
// its connection pool, timeout and options. A node uses it to call
// whichever node leads now without a new pool per call.
func (c *Client) At(baseURL string) *Client { return newClient(c.at(baseURL)) }

func (c *conn) at(baseURL string) *conn {
	at := &conn{http: c.http}
	at.base, at.baseErr = parseBaseURL(baseURL)
	return at
}

func parseBaseURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("server URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("server URL %q has no host", raw)
	}
	return u, nil
}

// newHTTPClient builds the one HTTP client a Client keeps (and shares
// with the clients At makes). Many forwarded writes per second go to one
// leader, so it keeps plenty of idle connections per host instead of the
// standard library's two.
func newHTTPClient(timeout time.Duration, opts []Option) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	hc := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          256,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ExpectContinueTimeout: time.Second,
		},
	}
	for _, opt := range opts {
		opt(hc)
	}
	return hc
}

// CallOption adjusts one request.
type CallOption func(*http.Request)

// IdempotencyKey makes a write safe to retry: the server derives the ids
// it creates from the key, so a repeat returns the first result.
func IdempotencyKey(key string) CallOption {
	return func(r *http.Request) { r.Header.Set("Idempotency-Key", key) }
}

// Consistent makes a read linearizable: the node first catches up with
// every write acknowledged before the call.
func Consistent() CallOption {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Set("consistent", "true")
		r.URL.RawQuery = q.Encode()
	}
}

// APIError is an error the API answered with.
type APIError struct {
	Status int
	// Code is the API's error code (see the OpenAPI document); it is
	// empty when the answer did not come from a Casare API, e.g. from a
	// proxy.
	Code    string
	Message string
	// Details is the JSON object of details, such as the offending
	// field or a workflow's validation problems.
	Details json.RawMessage
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("%s (HTTP %d, %s)", e.Message, e.Status, e.Code)
}

// IsCode reports whether err is an *APIError with the given code.
func IsCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// request is one call to the API.
type request struct {
	method      string
	path        string
	query       url.Values
	body        io.Reader
	contentType string
	opts        []CallOption
	// longLived marks a call that lasts by design, such as a long poll:
	// its context bounds it, not the client's timeout.
	longLived bool
}

// do sends req and returns the response body of a 2xx answer.
func (c *conn) do(ctx context.Context, req request) ([]byte, error) {
	hc := c.http
	if req.longLived {
		hc = c.unbounded()
	}
	resp, err := c.send(ctx, hc, req, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", req.method, req.path, err)
	}
	return data, nil
}

// send sends req with hc and returns a 2xx response, whose body the
// caller closes; any other answer becomes an *APIError.
func (c *conn) send(ctx context.Context, hc *http.Client, req request, accept string) (*http.Response, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	u := *c.base
	u.Path += req.path
	u.RawQuery = req.query.Encode()
	hr, err := http.NewRequestWithContext(ctx, req.method, u.String(), req.body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	if req.contentType != "" {
		hr.Header.Set("Content-Type", req.contentType)
	}
	hr.Header.Set("Accept", accept)
	for _, opt := range req.opts {
		opt(hr)
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read response: %w", req.method, req.path, err)
	}
	return nil, decodeAPIError(resp.StatusCode, data)
}

// unbounded returns the client's HTTP client without its overall
// timeout, for calls that last by design (streams, long polls) and are
// bounded by their context instead. It shares the connection pool.
func (c *conn) unbounded() *http.Client {
	hc := *c.http
	hc.Timeout = 0
	return &hc
}

// jsonRequest is a request whose body is v encoded as JSON.
func jsonRequest(method, path string, v any, opts []CallOption) (request, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return request{}, fmt.Errorf("encode request: %w", err)
	}
	return request{method: method, path: path, body: bytes.NewReader(data), contentType: "application/json", opts: opts}, nil
}

// callFor sends req and decodes the answer into a new T.
func callFor[T any](ctx context.Context, c *conn, req request) (T, error) {
	var out T
	err := c.call(ctx, req, &out)
	return out, err
}

// sendJSON sends v as a JSON body and decodes the answer into a new T.
func sendJSON[T any](ctx context.Context, c *conn, method, path string, v any, opts ...CallOption) (T, error) {
	req, err := jsonRequest(method, path, v, opts)
	if err != nil {
		var zero T
		return zero, err
	}
	return callFor[T](ctx, c, req)
}

// call sends req and decodes a JSON answer into out (unless out is nil).
func (c *conn) call(ctx context.Context, req request, out any) error {
	data, err := c.do(ctx, req)
	if err != nil || out == nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", req.method, req.path, err)
	}
	return nil
}

func decodeAPIError(status int, body []byte) *APIError {
	var envelope wire.ErrorResponse
	if err := json.Unmarshal(body, &envelope); err == nil && envelope.Error.Code != "" {
		return &APIError{Status: status, Code: envelope.Error.Code, Message: envelope.Error.Message, Details: envelope.Error.Details}
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &APIError{Status: status, Message: msg}
}

// PostJSON sends in (none when nil) as a JSON body to path and decodes
// the JSON answer into out (unless out is nil); for endpoints without a
// typed method, such as the internal ones nodes call.
func (c *conn) PostJSON(ctx context.Context, path string, in, out any, opts ...CallOption) error {
	req := request{method: http.MethodPost, path: path, opts: opts}
	if in != nil {
		var err error
		if req, err = jsonRequest(http.MethodPost, path, in, opts); err != nil {
			return err
		}
	}
	return c.call(ctx, req, out)
}

// Post sends body with the given content type to path and returns the
// body of a 2xx answer as it is.
func (c *conn) Post(ctx context.Context, path, contentType string, body io.Reader, opts ...CallOption) ([]byte, error) {
	return c.do(ctx, request{method: http.MethodPost, path: path, body: body, contentType: contentType, opts: opts})
}

// GetJSON fetches path (with its query, if any) from the node and decodes
// the JSON answer into out; for endpoints without a typed method.
func (c *conn) GetJSON(ctx context.Context, path string, out any, opts ...CallOption) error {
	p, rawQuery, _ := strings.Cut(path, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fmt.Errorf("GET %s: query: %w", path, err)
	}
	return c.call(ctx, request{method: http.MethodGet, path: p, query: query, opts: opts}, out)
}
