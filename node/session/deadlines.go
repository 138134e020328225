package session

import (
	"math"
	"sync/atomic"
	"time"
)

// epoch is the zero of the session's monotonic clock: the times a
// connection keeps are nanoseconds since it (mono), 8 bytes where a
// time.Time takes 24.
var epoch = time.Now()

// mono is the monotonic clock's now.
func mono() int64 { return int64(time.Since(epoch)) }

// monoTime is the time.Time of a mono reading.
func monoTime(t int64) time.Time { return epoch.Add(time.Duration(t)) }

// deadlines are a polled connection's (see sweep_linux.go). authAt and idleAt are atomic: the
// reading side sets them (authDone, each read) while the sweeper reads
// them. pingAt is the sweeper's; the reader sets it before the connection
// is registered with the loop (whose lock orders the two).
type deadlines struct {
	authAt atomic.Int64 // mono; 0: none (authenticated, or fired)
	idleAt atomic.Int64 // mono; renewed by every read
	pingAt int64        // mono
}

// never is a deadline that does not come.
const never = math.MaxInt64
