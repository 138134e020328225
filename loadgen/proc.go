package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times: 100 on
// every Linux architecture Go runs on (sysconf is not reachable without cgo).
const clockTicks = 100

// ProcStat is one reading of a process's resources.
type ProcStat struct {
	RSS     int64         // resident set size, bytes
	CPU     time.Duration // user + system time since the process started
	Threads int
	At      time.Time
}

// readProc reads /proc/<pid>/status and /proc/<pid>/stat.
func readProc(pid int) (ProcStat, error) {
	st := ProcStat{At: time.Now()}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, fmt.Errorf("read process %d: %w", pid, err)
	}
	hasRSS := false
	for line := range bytes.SplitSeq(status, []byte("\n")) {
		name, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		f := bytes.Fields(val)
		if len(f) == 0 {
			continue
		}
		switch string(name) {
		case "VmRSS":
			hasRSS = true
			kb, err := strconv.ParseInt(string(f[0]), 10, 64)
			if err != nil {
				return st, fmt.Errorf("process %d: VmRSS: %w", pid, err)
			}
			st.RSS = kb << 10
		case "Threads":
			st.Threads, _ = strconv.Atoi(string(f[0]))
		}
	}
	if !hasRSS {
		// A zombie's status has no memory lines: the process has exited.
		return st, fmt.Errorf("process %d has exited", pid)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, fmt.Errorf("read process %d: %w", pid, err)
	}
	// The command name (field 2) may contain spaces and parentheses; the
	// fields after its closing parenthesis start at field 3 (state).
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return st, fmt.Errorf("process %d: malformed stat", pid)
	}
	f := bytes.Fields(stat[i+1:])
	if len(f) < 13 {
		return st, fmt.Errorf("process %d: malformed stat", pid)
	}
	// utime and stime are fields 14 and 15: f[11] and f[12].
	ut, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	stt, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return st, fmt.Errorf("process %d: malformed cpu times", pid)
	}
	st.CPU = time.Duration(ut+stt) * time.Second / clockTicks
	return st, nil
}

// cpuShare is the CPU used between two readings as a fraction of one core.
func cpuShare(prev, cur ProcStat) float64 {
	dt := cur.At.Sub(prev.At)
	if dt <= 0 {
		return 0
	}
	return float64(cur.CPU-prev.CPU) / float64(dt)
}
