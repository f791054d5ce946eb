package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

func httpKinds() []*nodeKind {
	return []*nodeKind{{
		NodeType: NodeType{
			Name:     "http_request",
			Category: "network",
			Description: "Sends an HTTP request. Output holds status, headers (name → value, repeated values joined by \", \") and body, parsed when the response is JSON. " +
				"A status of 400 or more fails the node after the output is stored, unless fail_on_error_status is false. A response body over 4 MiB fails the run.",
			Fields: []Field{
				{Name: "method", Type: TypeString, Default: "GET", Description: "HTTP method"},
				{Name: "url", Type: TypeString, Required: true, Description: "request URL"},
				{Name: "headers", Type: TypeStringMap, Description: "request headers"},
				{Name: "body", Type: TypeAny, Description: "request body: a string is sent as is, any other value as JSON (with Content-Type application/json unless headers set one)"},
				{Name: "output_var", Type: TypeVariable, Description: "variable that receives {status, headers, body}"},
				{Name: "oauth2_token_var", Type: TypeVariable, Description: "variable holding an OAuth 2.0 token (from an oauth2_* node), sent as Authorization: Bearer"},
				{Name: "fail_on_error_status", Type: TypeBoolean, Default: "true", Description: "fail the node on a status of 400 or more"},
			},
			Ports:     []string{""},
			ErrorPort: true,
		},
		effects: true,
		exec:    execHTTP,
	}}
}

func execHTTP(ctx context.Context, c call) (string, error) {
	method, err := c.str("method")
	if err != nil {
		return "", err
	}
	if method == "" {
		method = http.MethodGet
	}
	url, err := c.requiredStr("url")
	if err != nil {
		return "", err
	}
	headers, err := c.strMap("headers")
	if err != nil {
		return "", err
	}
	body, hasBody, err := c.value("body")
	if err != nil {
		return "", err
	}
	failOnStatus, err := c.boolean("fail_on_error_status", true)
	if err != nil {
		return "", err
	}

	var reader io.Reader
	jsonBody := false
	if hasBody && body != nil {
		if s, ok := body.(string); ok {
			reader = strings.NewReader(s)
		} else {
			data, err := json.Marshal(body)
			if err != nil {
				return "", fmt.Errorf("body: %w", err)
			}
			reader, jsonBody = bytes.NewReader(data), true
		}
	}
	req, err := http.NewRequestWithContext(ctx, strings.ToUpper(method), url, reader)
	if err != nil {
		return "", err
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if jsonBody && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := c.authorize(req); err != nil {
		return "", err
	}

	resp, err := c.r.engine.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody+1))
	if err != nil {
		return "", fmt.Errorf("read response: %w", err)
	}
	if len(data) > maxResponseBody {
		return "", limitError("http_request body size", "%s %s: the response body is larger than %d MiB", req.Method, url, maxResponseBody>>20)
	}
	respBody, err := decodeBody(resp.Header.Get("Content-Type"), data)
	if err != nil {
		return "", err
	}
	out := map[string]any{
		"status":  resp.StatusCode,
		"headers": flattenHeaders(resp.Header),
		"body":    respBody,
	}
	if err := c.setOutput(out); err != nil {
		return "", err
	}
	if failOnStatus && resp.StatusCode >= 400 {
		return "", fmt.Errorf("%s %s: %s", req.Method, url, resp.Status)
	}
	return "", nil
}

// authorize adds the bearer token named by oauth2_token_var.
func (c call) authorize(req *http.Request) error {
	name, err := c.str("oauth2_token_var")
	if err != nil || name == "" {
		return err
	}
	raw, ok := c.r.vars[name]
	if !ok {
		return fmt.Errorf("oauth2_token_var: variable %s is not set", name)
	}
	tok, err := tokenFromValue(raw)
	if err != nil {
		return fmt.Errorf("oauth2_token_var: variable %s: %w", name, err)
	}
	tok.SetAuthHeader(req)
	return nil
}

func flattenHeaders(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		out[k] = strings.Join(v, ", ")
	}
	return out
}

// decodeBody parses JSON responses and returns anything else as text. A
// body that claims to be JSON but is not stays text rather than failing the
// node, since the status and headers are still useful.
func decodeBody(contentType string, data []byte) (any, error) {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType == "application/json" || strings.HasSuffix(mediaType, "+json") {
		if err := checkDecode("response body", string(data)); err != nil {
			return nil, err
		}
		var v any
		if err := json.Unmarshal(data, &v); err == nil {
			return v, nil
		}
	}
	return string(data), nil
}
