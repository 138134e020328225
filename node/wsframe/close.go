package wsframe

import "encoding/binary"

// Close status codes (RFC 6455 §7.4.1) used by the node.
const (
	CloseNormal          = 1000
	CloseGoingAway       = 1001 // node shutting down
	CloseProtocolError   = 1002
	CloseNoStatus        = 1005 // never sent: a close frame without a code
	CloseInvalidPayload  = 1007 // a text message that is not UTF-8
	ClosePolicyViolation = 1008 // slow consumer, authentication timeout, flooding
	CloseMessageTooBig   = 1009
	CloseInternalError   = 1011 // a panic in the connection's handling
	CloseServiceRestart  = 1012 // node leaving a cluster
)

// ClosePayload is the payload of a close frame with code and reason: the
// code, big-endian, then the reason; empty for CloseNoStatus. The reason is
// not cut: a control frame's payload is at most MaxControlPayload bytes.
func ClosePayload(code int, reason string) []byte {
	if code == CloseNoStatus {
		return []byte{}
	}
	b := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(b, uint16(code))
	return append(b, reason...)
}
