package session

import (
	"math"
	"sync/atomic"
)

// deadlines are a polled connection's (see sweep_linux.go). authAt and idleAt are atomic: the
// reading side sets them (authDone, each read) while the sweeper reads
// them. pingAt is the sweeper's; the reader sets it before the connection
// is registered with the loop (whose lock orders the two).
type deadlines struct {
	authAt atomic.Int64 // loop clock; 0: none (authenticated, or fired)
	idleAt atomic.Int64 // loop clock; renewed by every read
	pingAt int64        // loop clock
}

// never is a deadline that does not come.
const never = math.MaxInt64
