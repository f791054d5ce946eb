package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/hashicorp/raft"

	"github.com/casare/casare/consensus"
)

// Error codes the API adds to those of package consensus.
const (
	CodeBodyTooLarge     = "body_too_large"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeTimeout          = "timeout"
	CodeUnavailable      = "unavailable"
	// CodeUnauthenticated: no credential, or one the cluster does not
	// accept (unknown, revoked, expired).
	CodeUnauthenticated = "unauthenticated"
	// CodeForbidden: a valid credential whose role does not allow the
	// call.
	CodeForbidden = "forbidden"
	// CodeTooManyStreams: the node serves as many streams as it allows.
	CodeTooManyStreams = "too_many_streams"
)

// statusByCode maps every error code to its HTTP status. Codes from a
// newer leader that this node does not know become 500.
var statusByCode = map[string]int{
	consensus.CodeInvalid:    http.StatusBadRequest,
	consensus.CodeNotFound:   http.StatusNotFound,
	consensus.CodeConflict:   http.StatusConflict,
	consensus.CodeStaleToken: http.StatusConflict,
	consensus.CodeNotLeader:  http.StatusServiceUnavailable,
	consensus.CodeNoLeader:   http.StatusServiceUnavailable,
	consensus.CodeNotMember:  http.StatusServiceUnavailable,
	consensus.CodeInternal:   http.StatusInternalServerError,
	CodeBodyTooLarge:         http.StatusRequestEntityTooLarge,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeUnsupportedMedia:     http.StatusUnsupportedMediaType,
	CodeTimeout:              http.StatusServiceUnavailable,
	CodeUnavailable:          http.StatusServiceUnavailable,
	CodeUnauthenticated:      http.StatusUnauthorized,
	CodeForbidden:            http.StatusForbidden,
	CodeTooManyStreams:       http.StatusServiceUnavailable,
	CodeCatchingUp:           http.StatusServiceUnavailable,
	CodePeerRefused:          http.StatusForbidden,
}

// retryAfter lists the codes that mean "this node cannot answer now, but
// will shortly": their responses carry a Retry-After header.
var retryAfter = map[string]bool{
	consensus.CodeNoLeader:  true,
	consensus.CodeNotMember: true,
	CodeCatchingUp:          true,
}

// retryAfterSeconds is the Retry-After a client gets with no_leader,
// not_member or catching_up: an election normally completes within a
// second of a node noticing its leader is gone, and a rejoin or a replay
// within a few, so one second lets a client retry as soon as it can
// succeed without hammering a node that is still waiting.
const retryAfterSeconds = "1"

func statusFor(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// apiError is an error on its way to becoming an ErrorResponse.
type apiError struct {
	code    string
	message string
	details map[string]any
}

func (e *apiError) Error() string { return e.message }

func newError(code, format string, args ...any) *apiError {
	return &apiError{code: code, message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *apiError {
	return newError(consensus.CodeInvalid, format, args...)
}

// invalidField is a 400 about one named field of the input.
func invalidField(field, format string, args ...any) *apiError {
	e := invalid("%s: %s", field, fmt.Sprintf(format, args...))
	e.details = map[string]any{"field": field}
	return e
}

// asAPIError turns any handler error into an API error: input errors
// pass through, and a failure from the store keeps the code its
// business rule carries.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ce *consensus.Error
	switch {
	case errors.As(err, &ce):
		return newError(ce.Code, "%s", ce.Message)
	case isLeadershipChange(err):
		// A follower's forwarder must see this as retryable, so it keeps
		// the code the store retries on rather than becoming a 500.
		return newError(consensus.CodeNotLeader, "leadership changed: %v", err)
	case errors.Is(err, context.DeadlineExceeded):
		return newError(CodeTimeout, "%v", err)
	case errors.Is(err, context.Canceled):
		return newError(CodeUnavailable, "request cancelled: %v", err)
	}
	return newError(consensus.CodeInternal, "%v", err)
}

// isLeadershipChange reports errors Raft returns on the leader when the
// outcome of a write is unknown because leadership moved.
func isLeadershipChange(err error) bool {
	return errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) ||
		errors.Is(err, raft.ErrLeadershipTransferInProgress) || errors.Is(err, raft.ErrEnqueueTimeout)
}

// abort writes err as the response and stops the handler chain.
func (s *Server) abort(c *gin.Context, err error) {
	ae := asAPIError(err)
	status := statusFor(ae.code)
	if status >= http.StatusInternalServerError {
		s.log.Warn("request failed", "method", c.Request.Method, "route", c.FullPath(), "status", status, "err", err)
	}
	details := []byte("{}")
	if len(ae.details) > 0 {
		if b, merr := json.Marshal(ae.details); merr == nil {
			details = b
		}
	}
	if retryAfter[ae.code] {
		c.Header("Retry-After", retryAfterSeconds)
	}
	c.AbortWithStatusJSON(status, ErrorResponse{Error: ErrorBody{Code: ae.code, Message: ae.message, Details: details}})
}
