package loadgen

import (
	"sync"
	"sync/atomic"
	"time"
)

// Counters are a worker's cumulative counts. Workers send them whole in
// every Sample; the parent subtracts two samples for rates.
type Counters struct {
	Target    int64 `json:"target"`    // connections this worker runs (moderators included)
	Attempted int64 `json:"attempted"` // connections whose dial started
	Open      int64 `json:"open"`      // connections established and set up, now
	Dialing   int64 `json:"dialing"`   // dials or setups in progress, now

	DialErrors  int64 `json:"dial_errors"`
	SetupErrors int64 `json:"setup_errors"`
	Drops       int64 `json:"drops"` // set-up connections that ended before the run did
	// FirstDrop is when the first drop happened (unix ns; 0: none): after
	// a server is killed, the time its connections learnt it.
	FirstDrop int64 `json:"first_drop,omitempty"`

	MsgsIn  int64 `json:"msgs_in"`
	MsgsOut int64 `json:"msgs_out"`
	BytesIn int64 `json:"bytes_in"`

	Deliveries int64 `json:"deliveries"` // stamped broadcasts received (room.schedule / resource:reactionUpdated)
	Reactions  int64 `json:"reactions"`  // room.reaction pushes received
	Viewer     int64 `json:"viewer"`     // room.viewer.added / removed received
	OtherIn    int64 `json:"other_in"`   // any other push

	Requests      int64 `json:"requests"` // requests sent that expect a reply (after setup)
	ReactSent     int64 `json:"react_sent"`
	BroadcastSent int64 `json:"broadcast_sent"`
	BroadcastOK   int64 `json:"broadcast_ok"`
	FloodSent     int64 `json:"flood_sent"`
	ChurnDone     int64 `json:"churn_done"`
	Replies       int64 `json:"replies"`     // successful replies (and echoes)
	ErrReplies    int64 `json:"err_replies"` // error replies
	Unmatched     int64 `json:"unmatched"`   // replies to no request in flight

	// Errors counts error replies by code and failures by cause.
	Errors map[string]int64 `json:"errors,omitempty"`
}

// sub returns c − o, field by field (Errors included).
func (c Counters) sub(o Counters) Counters {
	r := Counters{
		Target: c.Target, Attempted: c.Attempted, Open: c.Open, Dialing: c.Dialing,
		DialErrors: c.DialErrors - o.DialErrors, SetupErrors: c.SetupErrors - o.SetupErrors, Drops: c.Drops - o.Drops, FirstDrop: c.FirstDrop,
		MsgsIn: c.MsgsIn - o.MsgsIn, MsgsOut: c.MsgsOut - o.MsgsOut, BytesIn: c.BytesIn - o.BytesIn,
		Deliveries: c.Deliveries - o.Deliveries, Reactions: c.Reactions - o.Reactions, Viewer: c.Viewer - o.Viewer,
		OtherIn: c.OtherIn - o.OtherIn, Requests: c.Requests - o.Requests, ReactSent: c.ReactSent - o.ReactSent, BroadcastSent: c.BroadcastSent - o.BroadcastSent,
		BroadcastOK: c.BroadcastOK - o.BroadcastOK, FloodSent: c.FloodSent - o.FloodSent, ChurnDone: c.ChurnDone - o.ChurnDone,
		Replies: c.Replies - o.Replies, ErrReplies: c.ErrReplies - o.ErrReplies, Unmatched: c.Unmatched - o.Unmatched,
	}
	for k, v := range c.Errors {
		if d := v - o.Errors[k]; d != 0 {
			if r.Errors == nil {
				r.Errors = map[string]int64{}
			}
			r.Errors[k] = d
		}
	}
	return r
}

// add returns c + o, field by field.
func (c Counters) add(o Counters) Counters {
	r := Counters{
		Target: c.Target + o.Target, Attempted: c.Attempted + o.Attempted, Open: c.Open + o.Open, Dialing: c.Dialing + o.Dialing,
		DialErrors: c.DialErrors + o.DialErrors, SetupErrors: c.SetupErrors + o.SetupErrors, Drops: c.Drops + o.Drops, FirstDrop: earliest(c.FirstDrop, o.FirstDrop),
		MsgsIn: c.MsgsIn + o.MsgsIn, MsgsOut: c.MsgsOut + o.MsgsOut, BytesIn: c.BytesIn + o.BytesIn,
		Deliveries: c.Deliveries + o.Deliveries, Reactions: c.Reactions + o.Reactions, Viewer: c.Viewer + o.Viewer,
		OtherIn: c.OtherIn + o.OtherIn, Requests: c.Requests + o.Requests, ReactSent: c.ReactSent + o.ReactSent, BroadcastSent: c.BroadcastSent + o.BroadcastSent,
		BroadcastOK: c.BroadcastOK + o.BroadcastOK, FloodSent: c.FloodSent + o.FloodSent, ChurnDone: c.ChurnDone + o.ChurnDone,
		Replies: c.Replies + o.Replies, ErrReplies: c.ErrReplies + o.ErrReplies, Unmatched: c.Unmatched + o.Unmatched,
	}
	if len(c.Errors)+len(o.Errors) > 0 {
		r.Errors = map[string]int64{}
		for k, v := range c.Errors {
			r.Errors[k] += v
		}
		for k, v := range o.Errors {
			r.Errors[k] += v
		}
	}
	return r
}

// errorTotal sums Errors.
func (c Counters) errorTotal() int64 {
	var n int64
	for _, v := range c.Errors {
		n += v
	}
	return n
}

// earliest is the earlier of two times in unix ns, 0 meaning none.
func earliest(a, b int64) int64 {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// liveCounters is the concurrently updated form of Counters.
type liveCounters struct {
	target, attempted, open, dialing                           atomic.Int64
	dialErrors, setupErrors, drops, firstDrop                  atomic.Int64
	msgsIn, msgsOut, bytesIn                                   atomic.Int64
	deliveries, reactions, viewer, otherIn                     atomic.Int64
	requests, reactSent, broadcastSent, broadcastOK, floodSent atomic.Int64
	churnDone, replies, errReplies, unmatched                  atomic.Int64

	mu     sync.Mutex
	errors map[string]int64
}

// maxErrorKeys bounds the error map: a misbehaving server cannot make the
// report grow without limit.
const maxErrorKeys = 64

// fail counts one error under key.
func (l *liveCounters) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.errors == nil {
		l.errors = map[string]int64{}
	}
	if _, ok := l.errors[key]; !ok && len(l.errors) >= maxErrorKeys {
		key = "other"
	}
	l.errors[key]++
}

func (l *liveCounters) snapshot() Counters {
	c := Counters{
		Target: l.target.Load(), Attempted: l.attempted.Load(), Open: l.open.Load(), Dialing: l.dialing.Load(),
		DialErrors: l.dialErrors.Load(), SetupErrors: l.setupErrors.Load(), Drops: l.drops.Load(), FirstDrop: l.firstDrop.Load(),
		MsgsIn: l.msgsIn.Load(), MsgsOut: l.msgsOut.Load(), BytesIn: l.bytesIn.Load(),
		Deliveries: l.deliveries.Load(), Reactions: l.reactions.Load(), Viewer: l.viewer.Load(), OtherIn: l.otherIn.Load(),
		Requests: l.requests.Load(), ReactSent: l.reactSent.Load(), BroadcastSent: l.broadcastSent.Load(), BroadcastOK: l.broadcastOK.Load(),
		FloodSent: l.floodSent.Load(), ChurnDone: l.churnDone.Load(), Replies: l.replies.Load(),
		ErrReplies: l.errReplies.Load(), Unmatched: l.unmatched.Load(),
	}
	l.mu.Lock()
	if len(l.errors) > 0 {
		c.Errors = make(map[string]int64, len(l.errors))
		for k, v := range l.errors {
			c.Errors[k] = v
		}
	}
	l.mu.Unlock()
	return c
}

// Sample is one report of a worker to its parent: cumulative counters and
// what was recorded since the previous sample.
type Sample struct {
	Worker int       `json:"worker"`
	At     time.Time `json:"at"`
	Final  bool      `json:"final,omitempty"`
	// Err is a worker's fatal error.
	Err      string       `json:"err,omitempty"`
	Counters Counters     `json:"counters"`
	Delivery HistSnapshot `json:"delivery,omitempty"` // stamped broadcast → receipt
	RTT      HistSnapshot `json:"rtt,omitempty"`      // room.react (ingest, echo: any flood frame) → reply
	Sched    HistSnapshot `json:"sched,omitempty"`    // broadcast request → its reply
	// Groups are the room.reaction broadcasts this worker saw, once each
	// has ended.
	Groups []Group `json:"groups,omitempty"`
}
