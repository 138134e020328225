package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// collector is the parent's view of one run while it lasts: the workers'
// latest samples, the phase (ramp, warm-up, measure, stop) and the figures
// measured so far. It is used by loop's goroutine only.
type collector struct {
	r *runner

	latest []Sample
	finals []bool
	ended  int

	ph                       phase
	phaseAt                  time.Time
	rampTime                 time.Duration
	mStart, mEnd             time.Time
	startSamples, endSamples []Sample
	tDelivery, tRTT, tSched  Dist // measured
	rDelivery, rRTT, rSched  Dist // this sampling round
	spread, gaps             Dist
	merger                   groupMerger
	prevAgg                  Counters
	prevAt                   time.Time
	workerErr                error
	stopDeadline             <-chan time.Time
	awaiting                 int // samples of the current round still to come
	roundAt                  time.Time
}

// loop runs the phases of a load from the workers' samples, sampling every
// interval, and returns the measured result once every worker's stream has
// ended.
func (r *runner) loop(ctx context.Context, events <-chan sampleOrEnd) (*Result, error) {
	n := r.cfg.Procs
	now := time.Now()
	c := &collector{r: r, latest: make([]Sample, n), finals: make([]bool, n), ph: phaseRamp, phaseAt: now, prevAt: now}
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	for c.ended < n {
		select {
		case ev := <-events:
			c.receive(ev)
		case <-ctx.Done():
			c.stop()
			ctx = context.Background() // go on to report what was measured
		case <-c.stopDeadline:
			return nil, errors.Join(c.workerErr, errors.New("workers did not stop in time"))
		case now := <-tick.C:
			if c.awaiting == 0 && c.ph != phaseStop {
				c.awaiting, c.roundAt = n, now
				r.command(cmdSample)
			}
		}
	}
	return c.result(), c.workerErr
}

// stop ends the load: the workers are told to stop and given stopTimeout.
func (c *collector) stop() {
	if c.ph == phaseStop {
		return
	}
	c.ph = phaseStop
	c.r.command(cmdStop)
	c.r.stopWorkers()
	c.stopDeadline = time.After(stopTimeout)
}

// receive takes one worker's sample or the end of its stream.
func (c *collector) receive(ev sampleOrEnd) {
	if ev.s.Err != "" || ev.end != nil {
		if c.workerErr == nil {
			c.workerErr = fmt.Errorf("worker %d: %s%v", ev.idx, ev.s.Err, ev.end)
		}
		c.stop()
	}
	if ev.s.At.IsZero() { // the stream ended
		c.ended++
		if !c.finals[ev.idx] && c.workerErr == nil {
			c.workerErr = fmt.Errorf("worker %d ended without its final report", ev.idx)
			c.stop()
		}
		return
	}
	s := ev.s
	if s.Worker != ev.idx {
		return
	}
	c.latest[s.Worker] = s
	c.finals[s.Worker] = c.finals[s.Worker] || s.Final
	c.rDelivery.Add(s.Delivery)
	c.rRTT.Add(s.RTT)
	c.rSched.Add(s.Sched)
	for _, g := range s.Groups {
		c.merger.add(g)
	}
	if !s.Final && c.awaiting > 0 {
		if c.awaiting--; c.awaiting == 0 && c.ph != phaseStop {
			c.round(c.roundAt)
		}
	}
}

// round completes a sampling round (every worker has answered): progress
// is reported and the phase moves on when its time has come.
func (c *collector) round(now time.Time) {
	r := c.r
	r.sampleProcs()
	agg := aggregate(c.latest)
	if c.ph == phaseMeasure {
		c.tDelivery.Merge(&c.rDelivery)
		c.tRTT.Merge(&c.rRTT)
		c.tSched.Merge(&c.rSched)
	}
	r.progress(c.ph, now, agg, c.prevAgg, now.Sub(c.prevAt), &c.rDelivery, &c.rRTT)
	c.prevAgg, c.prevAt = agg, now
	c.rDelivery, c.rRTT, c.rSched = Dist{}, Dist{}, Dist{}
	c.merger.flush(now.UnixNano(), groupSettle, c.mStart, c.mEnd, &c.spread, &c.gaps)
	c.advance(now, agg)
}

// advance moves from one phase to the next when its time has come.
func (c *collector) advance(now time.Time, agg Counters) {
	r, cfg := c.r, c.r.cfg
	switch c.ph {
	case phaseRamp:
		if (agg.Attempted >= agg.Target && agg.Dialing == 0) || now.Sub(c.phaseAt) > cfg.RampTimeout {
			c.rampTime = now.Sub(r.started)
			r.command(cmdLoad)
			c.ph, c.phaseAt = phaseWarmup, now
		}
	case phaseWarmup:
		if now.Sub(c.phaseAt) >= cfg.Warmup-cfg.Interval/2 {
			c.ph, c.phaseAt, c.mStart = phaseMeasure, now, now
			c.startSamples = append([]Sample(nil), c.latest...)
			for _, s := range r.servers {
				s.mStart = s.last
			}
			r.selfM[0] = r.self
		}
	case phaseMeasure:
		if now.Sub(c.phaseAt) >= cfg.Duration-cfg.Interval/2 {
			c.mEnd = now
			c.endSamples = append([]Sample(nil), c.latest...)
			for _, s := range r.servers {
				s.mEnd = s.last
			}
			r.selfM[1] = r.self
			c.stop()
		}
	}
}

// result is what was measured, once every stream has ended.
func (c *collector) result() *Result {
	c.merger.flush(0, 0, c.mStart, c.mEnd, &c.spread, &c.gaps)
	res := c.r.result(c.rampTime, c.mStart, c.mEnd, c.startSamples, c.endSamples, c.latest)
	res.Delivery, res.RTT, res.Sched = c.tDelivery.Summary(), c.tRTT.Summary(), c.tSched.Summary()
	res.ReactionSpread, res.ReactionGap = c.spread.Summary(), c.gaps.Summary()
	if d := res.Total.FirstDrop; d != 0 {
		if f := c.merger.after(d); f != 0 {
			res.ReactionRecovery = time.Duration(f - d)
		}
	}
	return res
}
