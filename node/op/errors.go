package op

import "fmt"

// Code is a venueless-style error code. Codecs for other dialects map it to
// their own representation (see Code.Status).
type Code string

// Error codes as venueless uses them (DESIGN §3).
const (
	CodeUnauthenticated    Code = "protocol.unauthenticated"
	CodeUnknownCommand     Code = "protocol.unknown_command"
	CodeDenied             Code = "protocol.denied"
	CodeBadRequest         Code = "protocol.invalid"
	CodeRateLimited        Code = "protocol.rate_limited"
	CodeRoomUnknown        Code = "room.unknown"
	CodeUnknownReaction    Code = "room.unknown_reaction"
	CodeUnknownSchedule    Code = "room.unknown_schedule_data"
	CodeNameTaken          Code = "room.invalid.name_taken"
	CodeConfigInvalid      Code = "config.invalid"
	CodeInvalidToken       Code = "auth.invalid_token"
	CodeExpiredToken       Code = "auth.expired_token"
	CodeAuthDenied         Code = "auth.denied"
	CodeMissingToken       Code = "auth.missing_id_or_token"
	CodeConnectionReplaced Code = "connection.replaced"
	CodeUnknownResource    Code = "resource.unknown"
	CodeInternal           Code = "server.error"
	CodeUnavailable        Code = "server.unavailable"
)

// Status maps a code to the numeric status of the Valu dialect
// (400 bad request, 401 unauthenticated, 403 denied, 404 unknown,
// 429 rate limited, 500 internal, 503 unavailable).
func (c Code) Status() int {
	switch c {
	case CodeUnauthenticated, CodeInvalidToken, CodeExpiredToken, CodeMissingToken:
		return 401
	case CodeDenied, CodeAuthDenied:
		return 403
	case CodeRoomUnknown, CodeUnknownCommand, CodeUnknownResource:
		return 404
	case CodeRateLimited:
		return 429
	case CodeInternal:
		return 500
	case CodeUnavailable:
		return 503
	default:
		return 400
	}
}

// Error is an operation's failure as the client sees it.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
