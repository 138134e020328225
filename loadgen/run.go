package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// Deps are a run's collaborators.
type Deps struct {
	// Progress receives a progress line every interval, and the workers'
	// stderr (default: discarded).
	Progress io.Writer
	// Now stamps broadcasts (default time.Now). Receivers always use the
	// real clock: a skewed Now shows up as latency.
	Now func() time.Time
	// WorkerCommand returns the command that runs a worker process with
	// args (default: this executable's "loadgen" subcommand).
	WorkerCommand func(args []string) *exec.Cmd
}

func (d *Deps) complete() {
	if d.Progress == nil {
		d.Progress = io.Discard
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.WorkerCommand == nil {
		d.WorkerCommand = func(args []string) *exec.Cmd {
			exe, err := os.Executable()
			if err != nil {
				exe = os.Args[0]
			}
			return exec.Command(exe, append([]string{"loadgen"}, args...)...)
		}
	}
}

// stopTimeout bounds the wait for workers to close their connections and
// send their final samples.
const stopTimeout = 30 * time.Second

// groupSettle is how long the parent waits for every worker's part of a
// room.reaction broadcast before completing it.
const groupSettle = 3 * groupSpan

type phase int

const (
	phaseRamp phase = iota
	phaseWarmup
	phaseMeasure
	phaseStop
)

func (p phase) String() string {
	return [...]string{"ramp", "warmup", "measure", "stop"}[p]
}

// workerProc is a running worker as its parent sees it.
type workerProc struct {
	idx  int
	cmds io.WriteCloser
	pid  int // 0: in-process
	wait func() error
}

type sampleOrEnd struct {
	s   Sample
	end error // the worker's report stream ended (nil: cleanly)
	idx int
}

// Run runs a load: it starts the workers, waits for the connections, loads
// for the warm-up and the measured duration, stops the workers and returns
// the measured figures. Progress goes to deps.Progress every interval.
func Run(ctx context.Context, cfg Config, deps Deps) (*Result, error) {
	cfg.Complete()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.WorkerIndex >= 0 {
		return nil, errors.New("Run is the parent: use RunWorker for --worker")
	}
	deps.complete()
	r := &runner{cfg: &cfg, deps: deps, started: time.Now()}
	for _, pid := range cfg.ServerPIDs {
		st, err := readProc(pid)
		if err != nil {
			return nil, fmt.Errorf("--server-pid: %w", err)
		}
		r.servers = append(r.servers, &serverTrack{pid: pid, base: st, prev: st, last: st})
	}
	events := make(chan sampleOrEnd, 64*cfg.Procs)
	if err := r.startWorkers(ctx, events); err != nil {
		r.stopWorkers()
		return nil, err
	}
	res, err := r.loop(ctx, events)
	werr := r.waitWorkers()
	if err == nil {
		err = werr
	}
	if res != nil && cfg.JSONOut != "" {
		b, jerr := json.MarshalIndent(res, "", "  ")
		if jerr == nil {
			jerr = os.WriteFile(cfg.JSONOut, append(b, '\n'), 0o644)
		}
		if jerr != nil {
			err = errors.Join(err, fmt.Errorf("--json: %w", jerr))
		}
	}
	return res, err
}

type serverTrack struct {
	pid              int
	base, prev, last ProcStat
	mStart, mEnd     ProcStat
}

type runner struct {
	cfg     *Config
	deps    Deps
	started time.Time
	workers []*workerProc
	servers []*serverTrack
	// self are the load generator's processes at the last tick, selfPrev
	// at the one before, selfM at the start and end of the measurement.
	self, selfPrev []ProcStat
	selfM          [2][]ProcStat
}

func (r *runner) startWorkers(ctx context.Context, events chan<- sampleOrEnd) error {
	for i := range r.cfg.Procs {
		wp := &workerProc{idx: i}
		var out io.ReadCloser
		if r.cfg.Procs == 1 {
			cmdR, cmdW := io.Pipe()
			outR, outW := io.Pipe()
			wcfg := *r.cfg
			wcfg.WorkerIndex = 0
			done := make(chan error, 1)
			go func() {
				err := RunWorker(ctx, wcfg, r.deps, cmdR, outW)
				_ = outW.CloseWithError(err)
				_ = cmdR.Close()
				done <- err
			}()
			wp.cmds, out, wp.wait = cmdW, outR, func() error { return <-done }
		} else {
			cmd := r.deps.WorkerCommand(r.cfg.workerArgs(i))
			if cmd.Env == nil {
				cmd.Env = os.Environ()
			}
			cmd.Env = append(cmd.Env, "ROOMRING_JWT_SECRET="+r.cfg.JWTSecret)
			cmd.Stderr = r.deps.Progress
			in, err := cmd.StdinPipe()
			if err != nil {
				return fmt.Errorf("worker %d: %w", i, err)
			}
			o, err := cmd.StdoutPipe()
			if err != nil {
				return fmt.Errorf("worker %d: %w", i, err)
			}
			if err := cmd.Start(); err != nil {
				return fmt.Errorf("start worker %d: %w", i, err)
			}
			wp.cmds, out, wp.pid = in, o, cmd.Process.Pid
			wp.wait = func() error {
				done := make(chan error, 1)
				go func() { done <- cmd.Wait() }()
				select {
				case err := <-done:
					return err
				case <-time.After(stopTimeout):
					_ = cmd.Process.Kill()
					return fmt.Errorf("worker %d did not stop; killed: %w", i, <-done)
				}
			}
		}
		r.workers = append(r.workers, wp)
		go func() {
			dec := json.NewDecoder(out)
			for {
				var s Sample
				if err := dec.Decode(&s); err != nil {
					if errors.Is(err, io.EOF) {
						err = nil
					}
					events <- sampleOrEnd{end: err, idx: i}
					return
				}
				events <- sampleOrEnd{s: s, idx: i}
			}
		}()
	}
	return nil
}

func (r *runner) command(cmd string) {
	b, _ := json.Marshal(command{Cmd: cmd})
	for _, w := range r.workers {
		_, _ = w.cmds.Write(append(b, '\n'))
	}
}

func (r *runner) stopWorkers() {
	for _, w := range r.workers {
		_ = w.cmds.Close()
	}
}

func (r *runner) waitWorkers() error {
	r.stopWorkers()
	var errs []error
	for _, w := range r.workers {
		if err := w.wait(); err != nil {
			errs = append(errs, fmt.Errorf("worker %d: %w", w.idx, err))
		}
	}
	return errors.Join(errs...)
}

// aggregate sums the workers' latest counters.
func aggregate(s []Sample) Counters {
	var c Counters
	for _, x := range s {
		c = c.add(x.Counters)
	}
	return c
}

func (r *runner) sampleProcs() {
	for _, s := range r.servers {
		if st, err := readProc(s.pid); err == nil {
			s.prev, s.last = s.last, st
		}
	}
	r.selfPrev = r.self
	r.self = nil
	pids := []int{os.Getpid()}
	for _, w := range r.workers {
		if w.pid != 0 {
			pids = append(pids, w.pid)
		}
	}
	for _, pid := range pids {
		if st, err := readProc(pid); err == nil {
			r.self = append(r.self, st)
		}
	}
}

func (r *runner) progress(ph phase, now time.Time, agg, prev Counters, dt time.Duration, del, rtt *Dist) {
	sec := dt.Seconds()
	if sec <= 0 {
		sec = 1
	}
	rate := func(a, b int64) string { return fmtRate(float64(a-b) / sec) }
	line := fmt.Sprintf("%5.0fs %-7s conns %d/%d", now.Sub(r.started).Seconds(), ph, agg.Open, agg.Target)
	if agg.Dialing > 0 {
		line += fmt.Sprintf(" (+%d dialing)", agg.Dialing)
	}
	line += fmt.Sprintf("  in %s/s out %s/s", rate(agg.MsgsIn, prev.MsgsIn), rate(agg.MsgsOut, prev.MsgsOut))
	if del.Count() > 0 {
		line += fmt.Sprintf("  deliveries %s/s p50 %s p99 %s", rate(agg.Deliveries, prev.Deliveries),
			fmtDur(del.Quantile(0.5)), fmtDur(del.Quantile(0.99)))
	}
	if rtt.Count() > 0 {
		line += fmt.Sprintf("  replies %s/s p99 %s", rate(agg.Replies+agg.ErrReplies, prev.Replies+prev.ErrReplies),
			fmtDur(rtt.Quantile(0.99)))
	}
	if agg.Reactions > prev.Reactions {
		line += fmt.Sprintf("  room.reaction %s/s", rate(agg.Reactions, prev.Reactions))
	}
	if e := agg.errorTotal(); e > 0 {
		line += fmt.Sprintf("  errors %d", e)
	}
	for _, s := range r.servers {
		line += fmt.Sprintf("  srv[%d] cpu %3.0f%% rss %s", s.pid, 100*cpuShare(s.prev, s.last), fmtBytes(s.last.RSS))
	}
	line += fmt.Sprintf("  lg cpu %3.0f%%", 100*cpuShare(sumProcs(r.selfPrev), sumProcs(r.self)))
	fmt.Fprintln(r.deps.Progress, line)
}

// sumProcs adds the CPU times of processes; At is the latest reading's.
func sumProcs(ps []ProcStat) ProcStat {
	var out ProcStat
	for _, p := range ps {
		out.CPU += p.CPU
		out.RSS += p.RSS
		if p.At.After(out.At) {
			out.At = p.At
		}
	}
	return out
}
