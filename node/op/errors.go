package op

import "fmt"

// Code is a dialect-neutral error code. Its values are venueless' code
// strings, which the venueless codec sends as they are; other dialects map
// them to their own representation (socketio.Status).
type Code string

// Error codes.
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
	CodeWorldUnknown       Code = "world.unknown"
	CodeWorldClosed        Code = "world.closed"
	CodeUnknownResource    Code = "resource.unknown"
	CodeInvalidResource    Code = "resource.invalid"
	CodeQuotaExceeded      Code = "resource.quota_exceeded"
	CodeInternal           Code = "server.error"
	CodeUnavailable        Code = "server.unavailable"
)

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
