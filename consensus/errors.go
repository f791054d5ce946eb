package consensus

import (
	"errors"
	"fmt"
)

// Error codes of business-rule failures. They travel unchanged from the
// leader's FSM through forwarding to the API, which maps them to HTTP
// statuses.
const (
	CodeNotFound   = "not_found"
	CodeConflict   = "conflict"
	CodeInvalid    = "invalid"
	CodeStaleToken = "stale_token"
	CodeNotLeader  = "not_leader"
	CodeNoLeader   = "no_leader"
	// CodeNotMember: this server is not in the Raft configuration (it was
	// removed, typically after a network cut) and is rejoining; its data
	// may be stale, so it serves none until it has caught up.
	CodeNotMember = "not_member"
	CodeInternal  = "internal"
)

// Error is a business-rule failure returned by the FSM or the store, as
// opposed to a failure to replicate.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// CodeInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsCode reports whether err carries the given code.
func IsCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
