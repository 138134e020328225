package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Commands a parent sends its workers, one JSON object a line.
const (
	cmdSample = "sample" // write a Sample now
	cmdLoad   = "load"   // start reactions, broadcasts, churn, floods
	cmdStop   = "stop"   // close every connection, send the final sample, exit
)

type command struct {
	Cmd string `json:"cmd"`
}

// maxInFlightDials bounds a worker's dials and setups in progress.
const maxInFlightDials = 512

// worker runs a share of the connections: those whose index i has
// i mod Procs = WorkerIndex, and the moderators on worker 0.
type worker struct {
	cfg     *Config
	deps    Deps
	idx     int
	dialect dialect

	live                 liveCounters
	delivery, rtt, sched Histogram
	groups               groupTracker

	clients []*client // participants
	mods    []*client
	all     []*client // participants then moderators; index = slot
	poll    *pollSet  // nil: each connection read by its own goroutine

	loading atomic.Bool
	pacers  sync.WaitGroup
}

func newWorker(cfg *Config, deps Deps, idx int) *worker {
	w := &worker{cfg: cfg, deps: deps, idx: idx}
	switch {
	case cfg.Mode == ModeEcho:
		w.dialect = echoDialect{}
	case cfg.Dialect == DialectSocketIO:
		w.dialect = socketIODialect{}
	default:
		w.dialect = venuelessDialect{}
	}
	at := func(l List, i int) string { return l[i%len(l)] }
	src := func(i int) []byte {
		if len(cfg.Sources) == 0 {
			return nil
		}
		return cfg.Sources[i%len(cfg.Sources)]
	}
	if idx == 0 {
		for k := range cfg.Moderators {
			w.mods = append(w.mods, &client{w: w, index: -1 - k, moderator: true,
				uid: "lg-" + cfg.RunID + "-mod-" + strconv.Itoa(k), room: cfg.BigRoom,
				target: at(cfg.Targets, k), src: src(k)})
		}
	}
	big := int(math.Round(float64(cfg.Conns) * cfg.BigShare))
	for i := idx; i < cfg.Conns; i += cfg.Procs {
		c := &client{w: w, index: i, uid: "lg-" + cfg.RunID + "-" + strconv.Itoa(i),
			target: at(cfg.Targets, i), src: src(i)}
		switch {
		case i < big:
			c.room = cfg.BigRoom
		case len(cfg.Rooms) > 0:
			c.room = cfg.Rooms[(i-big)%len(cfg.Rooms)]
		}
		w.clients = append(w.clients, c)
	}
	w.all = append(append([]*client(nil), w.clients...), w.mods...)
	for i, c := range w.all {
		c.slot = i
	}
	w.live.target.Store(int64(len(w.all)))
	return w
}

// RunWorker runs worker cfg.WorkerIndex: it reads commands from cmds (one
// JSON object a line; end of input means stop) and writes a Sample a line
// to out when asked and once more at the end.
func RunWorker(ctx context.Context, cfg Config, deps Deps, cmds io.Reader, out io.Writer) error {
	cfg.Complete()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.WorkerIndex < 0 {
		return fmt.Errorf("RunWorker needs --worker")
	}
	deps.complete()
	return newWorker(&cfg, deps, cfg.WorkerIndex).run(ctx, cmds, out)
}

func (w *worker) run(ctx context.Context, cmds io.Reader, out io.Writer) error {
	if w.cfg.Epoll {
		poll, err := newPollSet(w.all)
		if err != nil {
			return fmt.Errorf("worker %d: %w", w.idx, err)
		}
		if poll != nil {
			w.poll = poll
			defer poll.close()
		}
	}
	enc := json.NewEncoder(out)
	cmdc := make(chan string)
	go func() {
		defer close(cmdc)
		sc := bufio.NewScanner(cmds)
		for sc.Scan() {
			var c command
			if json.Unmarshal(sc.Bytes(), &c) == nil {
				cmdc <- c.Cmd
			}
		}
	}()
	connCtx, stopConns := context.WithCancel(ctx)
	defer stopConns()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.dialAll(connCtx, &wg)
	}()
	loadCtx, stopLoad := context.WithCancel(connCtx)
	defer stopLoad()
	for {
		select {
		case cmd, ok := <-cmdc:
			switch {
			case ok && cmd == cmdSample:
				if err := enc.Encode(w.sample(false)); err != nil {
					return fmt.Errorf("worker %d: report: %w", w.idx, err)
				}
				continue
			case ok && cmd == cmdLoad:
				if !w.loading.Swap(true) {
					w.startLoad(loadCtx)
				}
				continue
			}
		case <-ctx.Done():
		}
		break
	}
	w.loading.Store(false)
	stopLoad()
	w.pacers.Wait()
	w.drain(ctx)
	stopConns()
	for _, c := range w.all {
		c.closeConn(nil, true)
	}
	wg.Wait()
	for _, c := range w.all { // those whose setup ended during the first pass
		c.closeConn(nil, true)
	}
	if err := enc.Encode(w.sample(true)); err != nil {
		return fmt.Errorf("worker %d: report: %w", w.idx, err)
	}
	return nil
}

// dialAll starts the worker's connections at its share of ConnectRate,
// moderators last (they are there for the load, not for the ramp-up).
func (w *worker) dialAll(ctx context.Context, wg *sync.WaitGroup) {
	all := w.all
	rate := w.cfg.ConnectRate / float64(w.cfg.Procs)
	sem := make(chan struct{}, maxInFlightDials)
	start := time.Now()
	for n, c := range all {
		// Connection n is due n/rate seconds after the start.
		if d := time.Until(start.Add(time.Duration(float64(n) / rate * float64(time.Second)))); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		select {
		case <-ctx.Done():
			return
		case sem <- struct{}{}:
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.run(ctx, func() { <-sem })
		}()
	}
}

// readyConn is called when c has been set up.
func (w *worker) readyConn(c *client) {
	if w.loading.Load() && w.flooding() {
		w.startFlood(c)
	}
}

func (w *worker) flooding() bool { return w.cfg.Mode == ModeIngest || w.cfg.Mode == ModeEcho }

func (w *worker) startFlood(c *client) {
	if c.flooding.Swap(true) {
		return
	}
	for range w.cfg.Window {
		if !w.loading.Load() || c.send(reqFlood, 0) != nil {
			return
		}
		w.live.floodSent.Add(1)
	}
}

// flooded is called with each reply to a flood frame: the next goes out.
func (w *worker) flooded(c *client) {
	if w.loading.Load() && c.send(reqFlood, 0) == nil {
		w.live.floodSent.Add(1)
	}
}

// drainPoll is how often the drain looks at the counters.
const drainPoll = 10 * time.Millisecond

// drain waits, after the load stopped, until no request is in flight and
// nothing arrived for DrainQuiet, or for Drain at most, so that the counts
// include the replies and deliveries of everything sent.
func (w *worker) drain(ctx context.Context) {
	deadline := time.Now().Add(w.cfg.Drain)
	lastIn, quietSince := w.live.msgsIn.Load(), time.Now()
	t := time.NewTicker(drainPoll)
	defer t.Stop()
	for {
		inFlight := w.live.requests.Load() - w.live.replies.Load() - w.live.errReplies.Load()
		if in := w.live.msgsIn.Load(); in != lastIn {
			lastIn, quietSince = in, time.Now()
		}
		if (inFlight <= 0 && time.Since(quietSince) >= w.cfg.DrainQuiet) || time.Now().After(deadline) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startLoad starts the paced senders (and the floods).
func (w *worker) startLoad(ctx context.Context) {
	procs := float64(w.cfg.Procs)
	if w.flooding() {
		for _, c := range w.clients {
			if c.state.Load() == stReady {
				w.pacers.Add(1)
				go func() {
					defer w.pacers.Done()
					w.startFlood(c)
				}()
			}
		}
		return
	}
	pace := func(rate float64, act func()) {
		if rate <= 0 {
			return
		}
		w.pacers.Add(1)
		go func() {
			defer w.pacers.Done()
			pacer(ctx, rate, act)
		}()
	}
	pace(w.cfg.ReactionRate/procs, func() {
		if c := w.pick(); c != nil && c.send(reqReact, 0) == nil {
			w.live.reactSent.Add(1)
		}
	})
	pace(w.cfg.ChurnRate/procs, func() {
		if c := w.pick(); c != nil && c.room != "" && c.send(reqLeave, 0) == nil {
			_ = c.send(reqEnter, 0)
		}
	})
	if len(w.mods) > 0 {
		next := 0
		pace(w.cfg.BroadcastRate, func() {
			for range len(w.mods) {
				c := w.mods[next%len(w.mods)]
				next++
				if c.send(reqBroadcast, w.deps.Now().UnixNano()) == nil {
					w.live.broadcastSent.Add(1)
					return
				}
			}
		})
	}
}

// pick returns a random ready participant, or nil.
func (w *worker) pick() *client {
	if len(w.clients) == 0 {
		return nil
	}
	for range 8 {
		c := w.clients[rand.IntN(len(w.clients))]
		if c.state.Load() == stReady {
			return c
		}
	}
	return nil
}

// pacerTick is the granularity of paced sending.
const pacerTick = 5 * time.Millisecond

// pacer calls act rate times a second until ctx is done. Calls that fall
// behind (act blocked) are made up at once, at most a second's worth.
func pacer(ctx context.Context, rate float64, act func()) {
	t := time.NewTicker(pacerTick)
	defer t.Stop()
	start := time.Now()
	var done float64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due := now.Sub(start).Seconds() * rate
			if due-done > rate {
				done = due - rate
			}
			for done+1 <= due {
				if ctx.Err() != nil {
					return
				}
				act()
				done++
			}
		}
	}
}

func (w *worker) sample(final bool) Sample {
	now := time.Now()
	return Sample{
		Worker: w.idx, At: now, Final: final,
		Counters: w.live.snapshot(),
		Delivery: w.delivery.Swap(), RTT: w.rtt.Swap(), Sched: w.sched.Swap(),
		Groups: w.groups.take(now.UnixNano(), final),
	}
}
