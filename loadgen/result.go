package loadgen

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Result is a run's measured figures. Rates and counts are over the
// measured period (after the ramp-up and the warm-up) unless named total.
type Result struct {
	Mode       string   `json:"mode"`
	Dialect    string   `json:"dialect"`
	Targets    []string `json:"targets"`
	Procs      int      `json:"procs"`
	Conns      int      `json:"conns"`
	Moderators int      `json:"moderators"`
	BigRoom    string   `json:"big_room,omitempty"`
	BigShare   float64  `json:"big_share"`
	Rooms      int      `json:"rooms"`

	ReactionRate  float64 `json:"reaction_rate"`
	BroadcastRate float64 `json:"broadcast_rate"`
	ChurnRate     float64 `json:"churn_rate"`
	Window        int     `json:"window,omitempty"`

	Ramp     time.Duration `json:"ramp_ns"`
	Measured time.Duration `json:"measured_ns"`
	// Held is the number of connections open at the end of the measurement.
	Held int64 `json:"held"`

	// Counters are the increments over the measured period; Total the
	// whole run's.
	Counters Counters `json:"counters"`
	Total    Counters `json:"total"`

	MsgsInPerSec     float64 `json:"msgs_in_per_sec"`
	MsgsOutPerSec    float64 `json:"msgs_out_per_sec"`
	DeliveriesPerSec float64 `json:"deliveries_per_sec"`
	ReactionsPerSec  float64 `json:"room_reactions_per_sec"` // room.reaction pushes received
	RepliesPerSec    float64 `json:"replies_per_sec"`
	BroadcastsPerSec float64 `json:"broadcasts_per_sec"` // broadcasts acknowledged

	// Delivery is broadcast delivery latency (send stamp → receipt); RTT
	// the reply latency of room.react (ingest and echo: of every frame);
	// Sched the reply latency of the broadcasts.
	Delivery Summary `json:"delivery"`
	RTT      Summary `json:"rtt"`
	Sched    Summary `json:"broadcast_rtt"`
	// ReactionSpread is room.reaction receipt − the broadcast's first
	// receipt; ReactionGap the time between a room's consecutive
	// room.reaction broadcasts.
	ReactionSpread Summary `json:"reaction_spread"`
	ReactionGap    Summary `json:"reaction_gap"`
	// ReactionRecovery is the time from the first dropped connection (a
	// node killed) to the next room.reaction broadcast's first receipt.
	ReactionRecovery time.Duration `json:"reaction_recovery,omitempty"`

	Servers []ServerResult `json:"servers,omitempty"`
	// LoadgenCPU is the load generator's CPU (all its processes) over the
	// measured period, in cores.
	LoadgenCPU float64 `json:"loadgen_cpu"`
}

// ServerResult is one --server-pid's resources.
type ServerResult struct {
	PID int `json:"pid"`
	// RSSBefore is the RSS before the load generator connected; RSSEnd at
	// the end of the measurement.
	RSSBefore int64 `json:"rss_before"`
	RSSEnd    int64 `json:"rss_end"`
	// RSSPerConn is (RSSEnd − RSSBefore) / connections this server held
	// (the held connections spread evenly over the servers).
	RSSPerConn float64 `json:"rss_per_conn"`
	// CPU is the average over the measured period, in cores.
	CPU     float64 `json:"cpu"`
	Threads int     `json:"threads"`
}

func (r *runner) result(ramp time.Duration, mStart, mEnd time.Time, start, end, final []Sample) *Result {
	cfg := r.cfg
	res := &Result{
		Mode: cfg.Mode, Dialect: cfg.Dialect, Targets: cfg.Targets, Procs: cfg.Procs, Conns: cfg.Conns,
		Moderators: cfg.Moderators, BigRoom: cfg.BigRoom, BigShare: cfg.BigShare, Rooms: len(cfg.Rooms),
		ReactionRate: cfg.ReactionRate, BroadcastRate: cfg.BroadcastRate, ChurnRate: cfg.ChurnRate,
		Ramp: ramp, Total: aggregate(final),
	}
	if cfg.Mode != ModeRooms {
		res.Window = cfg.Window
	}
	if mStart.IsZero() || mEnd.IsZero() || len(start) == 0 || len(end) == 0 {
		return res
	}
	res.Measured = mEnd.Sub(mStart)
	// Rates: each worker's increments over its own sample times.
	for i := range end {
		d := end[i].Counters.sub(start[i].Counters)
		res.Counters = res.Counters.add(d)
		dt := end[i].At.Sub(start[i].At).Seconds()
		if dt <= 0 {
			continue
		}
		res.MsgsInPerSec += float64(d.MsgsIn) / dt
		res.MsgsOutPerSec += float64(d.MsgsOut) / dt
		res.DeliveriesPerSec += float64(d.Deliveries) / dt
		res.ReactionsPerSec += float64(d.Reactions) / dt
		res.RepliesPerSec += float64(d.Replies+d.ErrReplies) / dt
		res.BroadcastsPerSec += float64(d.BroadcastOK) / dt
	}
	res.Held = aggregate(end).Open
	dt := res.Measured.Seconds()
	for _, s := range r.servers {
		sr := ServerResult{PID: s.pid, RSSBefore: s.base.RSS, RSSEnd: s.mEnd.RSS, Threads: s.mEnd.Threads,
			CPU: cpuShare(s.mStart, s.mEnd)}
		if res.Held > 0 {
			sr.RSSPerConn = float64(s.mEnd.RSS-s.base.RSS) / (float64(res.Held) / float64(len(r.servers)))
		}
		res.Servers = append(res.Servers, sr)
	}
	if dt > 0 && len(r.selfM[0]) > 0 && len(r.selfM[1]) > 0 {
		res.LoadgenCPU = cpuShare(sumProcs(r.selfM[0]), sumProcs(r.selfM[1]))
	}
	return res
}

// Print writes the result for people.
func (res *Result) Print(w io.Writer) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n== roomring loadgen: %s, %s, %d connection(s) + %d moderator(s), %d process(es), targets %s\n",
		res.Mode, res.Dialect, res.Conns, res.Moderators, res.Procs, strings.Join(res.Targets, ","))
	if res.Mode == ModeRooms {
		fmt.Fprintf(&b, "   big room %s (%.0f%%), %d other room(s); reactions %g/s, broadcasts %g/s, churn %g/s\n",
			res.BigRoom, 100*res.BigShare, res.Rooms, res.ReactionRate, res.BroadcastRate, res.ChurnRate)
	} else {
		fmt.Fprintf(&b, "   window %d frame(s) per connection\n", res.Window)
	}
	fmt.Fprintf(&b, "connections  held %d of %d; ramp-up %s; dial errors %d, setup errors %d, drops %d (whole run)\n",
		res.Held, res.Total.Target, fmtDur(res.Ramp), res.Total.DialErrors, res.Total.SetupErrors, res.Total.Drops)
	if res.Measured == 0 {
		fmt.Fprintf(&b, "not measured (the run ended before the measurement started)\n")
		_, _ = io.WriteString(w, b.String())
		return
	}
	fmt.Fprintf(&b, "measured     %s\n", fmtDur(res.Measured))
	fmt.Fprintf(&b, "messages     in %s/s, out %s/s\n", fmtRate(res.MsgsInPerSec), fmtRate(res.MsgsOutPerSec))
	if res.Delivery.Count > 0 || res.BroadcastRate > 0 {
		fmt.Fprintf(&b, "deliveries   %s/s of %s broadcasts/s; latency %s\n", fmtRate(res.DeliveriesPerSec),
			fmtRate(res.BroadcastsPerSec), fmtSummary(res.Delivery))
		fmt.Fprintf(&b, "broadcast    reply latency %s\n", fmtSummary(res.Sched))
	}
	if res.RTT.Count > 0 {
		fmt.Fprintf(&b, "replies      %s/s; latency %s\n", fmtRate(res.RepliesPerSec), fmtSummary(res.RTT))
	}
	if res.ReactionSpread.Count > 0 {
		fmt.Fprintf(&b, "room.reaction %s/s received; spread after first receipt %s; gap between broadcasts p50 %s max %s\n",
			fmtRate(res.ReactionsPerSec), fmtSummary(res.ReactionSpread), fmtDur(res.ReactionGap.P50), fmtDur(res.ReactionGap.Max))
	}
	if res.ReactionRecovery > 0 {
		fmt.Fprintf(&b, "recovery     first room.reaction %s after the first dropped connection\n", fmtDur(res.ReactionRecovery))
	}
	if len(res.Counters.Errors) > 0 {
		keys := make([]string, 0, len(res.Counters.Errors))
		for k := range res.Counters.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, res.Counters.Errors[k])
		}
		fmt.Fprintf(&b, "errors       %s\n", strings.Join(parts, ", "))
	}
	for _, s := range res.Servers {
		fmt.Fprintf(&b, "server %-6d cpu %.2f cores; rss %s before, %s at end (%s per connection); %d threads\n",
			s.PID, s.CPU, fmtBytes(s.RSSBefore), fmtBytes(s.RSSEnd), fmtBytes(int64(s.RSSPerConn)), s.Threads)
	}
	fmt.Fprintf(&b, "loadgen      cpu %.2f cores\n", res.LoadgenCPU)
	_, _ = io.WriteString(w, b.String())
}

func fmtSummary(s Summary) string {
	if s.Count == 0 {
		return "(none)"
	}
	return fmt.Sprintf("p50 %s p90 %s p99 %s p99.9 %s max %s (n=%d)",
		fmtDur(s.P50), fmtDur(s.P90), fmtDur(s.P99), fmtDur(s.P999), fmtDur(s.Max), s.Count)
}

func fmtDur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return d.Round(100 * time.Millisecond).String()
}

func fmtRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtBytes(n int64) string {
	switch {
	case n >= 1<<30 || n <= -1<<30:
		return fmt.Sprintf("%.2fGiB", float64(n)/(1<<30))
	case n >= 1<<20 || n <= -1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
}
