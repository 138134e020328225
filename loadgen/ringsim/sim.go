package ringsim

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/roomring/roomring/node/cluster/key"
	"github.com/roomring/roomring/node/cluster/ring"
)

// Step is one membership change as the simulation measured it.
type Step struct {
	What string
	// Agree is the time from the change to every live member seeing the
	// same, complete membership.
	Agree time.Duration
	// Moved is the share of rooms whose owner changed; Ideal the share a
	// perfect placement would move (1/n of the larger pool).
	Moved, Ideal float64
	// MaxLoad is the busiest member's rooms as a multiple of the average,
	// after the change.
	MaxLoad float64
}

// Result is a simulation's figures.
type Result struct {
	Members int
	Rooms   int
	Steps   []Step
	// Records are how catalog records made on one member spread.
	Records []Spread
	// RingBuild is the time to build one ring of the pool's size.
	RingBuild time.Duration
}

// sim is a running simulation.
type sim struct {
	cfg   Config
	key   []byte
	log   *slog.Logger
	live  []*member
	seq   int
	rooms []string
}

// Run runs the simulation: it starts the pool, then a member joins, one
// leaves gracefully and one crashes, and a few messages are gossiped. Every
// member is shut down before it returns.
func Run(ctx context.Context, cfg Config, log *slog.Logger, progress func(string)) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	keys, err := key.Derive("ringsim-cluster-passphrase")
	if err != nil {
		return nil, err
	}
	s := &sim{cfg: cfg, key: keys.Gossip, log: log}
	defer s.shutdown()
	s.rooms = make([]string, cfg.Rooms)
	for i := range s.rooms {
		s.rooms[i] = "room-" + strconv.Itoa(i)
	}
	res := &Result{Members: cfg.Members, Rooms: cfg.Rooms}

	if err := s.start(ctx, res, progress); err != nil {
		return res, err
	}
	const builds = 20
	t0 := time.Now()
	for range builds {
		if _, err := ring.New(cfg.Ring, s.names()); err != nil {
			return res, err
		}
	}
	res.RingBuild = time.Since(t0) / builds

	if err := s.changes(ctx, res, progress); err != nil {
		return res, err
	}
	for i := range cfg.Messages {
		sp, err := s.spread(ctx, i)
		if err != nil {
			return res, err
		}
		all := "not every member within " + s.cfg.CatalogTimeout.String()
		if sp.All > 0 {
			all = "every member after " + sp.All.Round(time.Millisecond).String()
		}
		progress(fmt.Sprintf("catalog record %d: gossip reached %.0f %% of the members in %v; %s",
			i, 100*sp.Gossiped, sp.GossipDone.Round(time.Millisecond), all))
		res.Records = append(res.Records, sp)
	}
	return res, nil
}

// start starts the pool and waits for it to agree.
func (s *sim) start(ctx context.Context, res *Result, progress func(string)) error {
	cfg := s.cfg
	start := time.Now()
	for range cfg.Members {
		if err := s.add(); err != nil {
			return err
		}
		pause := time.Duration(float64(time.Second) / cfg.StartRate)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
	agree, err := s.agree(ctx, start, cfg.StartTimeout)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	progress(fmt.Sprintf("%d members agree %v after the first started", cfg.Members, agree.Round(time.Millisecond)))
	res.Steps = append(res.Steps, Step{What: fmt.Sprintf("start (%d members, %.0f/s)", cfg.Members, cfg.StartRate),
		Agree: agree, MaxLoad: s.maxLoad()})

	return nil
}

// changes makes a member join, one leave and one crash, each measured.
func (s *sim) changes(ctx context.Context, res *Result, progress func(string)) error {
	cfg := s.cfg
	for _, ch := range []struct {
		what   string
		change func() error
	}{
		{"join", s.add},
		{"graceful leave", func() error { return s.remove(len(s.live)/2, true) }},
		{"crash (sockets closed, no leave)", func() error { return s.remove(len(s.live)/3, false) }},
	} {
		before := s.names()
		t := time.Now()
		if err := ch.change(); err != nil {
			return fmt.Errorf("%s: %w", ch.what, err)
		}
		agree, err := s.agree(ctx, t, cfg.Timeout)
		if err != nil {
			return fmt.Errorf("%s: %w", ch.what, err)
		}
		moved, err := s.moved(before, s.names())
		if err != nil {
			return err
		}
		st := Step{What: ch.what, Agree: agree, Moved: moved,
			Ideal: 1 / float64(max(len(before), len(s.live))), MaxLoad: s.maxLoad()}
		progress(fmt.Sprintf("%s: members agree after %v; %.1f %% of the rooms moved", ch.what,
			agree.Round(time.Millisecond), 100*moved))
		res.Steps = append(res.Steps, st)
	}

	return nil
}

// add starts a member that joins the first live one.
func (s *sim) add() error {
	var seeds []string
	if len(s.live) > 0 {
		seeds = []string{s.live[0].m.Addr()}
	}
	name := fmt.Sprintf("sim-%03d", s.seq)
	s.seq++
	m, err := startMember(s.cfg.Gossip, s.cfg.Host, name, s.key, seeds, s.log)
	if err != nil {
		return fmt.Errorf("member %s: %w", name, err)
	}
	s.live = append(s.live, m)
	return nil
}

// remove stops live member i: gracefully (it announces its leave) or as
// a crash (its sockets close, nothing is announced).
func (s *sim) remove(i int, graceful bool) error {
	m := s.live[i]
	s.live = slices.Delete(s.live, i, i+1)
	if graceful {
		if err := m.m.Leave(); err != nil {
			_ = m.m.Shutdown()
			return err
		}
	}
	return m.m.Shutdown()
}

func (s *sim) names() []string {
	out := make([]string, len(s.live))
	for i, m := range s.live {
		out[i] = m.name
	}
	slices.Sort(out)
	return out
}

// agree waits until every live member sees exactly the live members, and
// returns the time since since; it gives up after timeout.
func (s *sim) agree(ctx context.Context, since time.Time, timeout time.Duration) (time.Duration, error) {
	want := s.names()
	deadline := time.Now().Add(timeout)
	for {
		all := true
		for _, m := range s.live {
			if !m.sees(want) {
				all = false
				break
			}
		}
		if all {
			return time.Since(since), nil
		}
		if time.Now().After(deadline) {
			lo, hi := len(want), 0
			for _, m := range s.live {
				n := len(m.m.Members())
				lo, hi = min(lo, n), max(hi, n)
			}
			return 0, fmt.Errorf("members did not agree within %v: views of %d to %d members, %d live",
				timeout, lo, hi, len(want))
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// moved is the share of rooms whose owner differs between the two rings.
func (s *sim) moved(before, after []string) (float64, error) {
	a, err := ring.New(s.cfg.Ring, before)
	if err != nil {
		return 0, err
	}
	b, err := ring.New(s.cfg.Ring, after)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range s.rooms {
		if a.Owner(r) != b.Owner(r) {
			n++
		}
	}
	return float64(n) / float64(len(s.rooms)), nil
}

// maxLoad is the busiest member's rooms over the average.
func (s *sim) maxLoad() float64 {
	r, err := ring.New(s.cfg.Ring, s.names())
	if err != nil {
		return 0
	}
	count := map[string]int{}
	top := 0
	for _, id := range s.rooms {
		o := r.Owner(id)
		count[o]++
		top = max(top, count[o])
	}
	return float64(top) * float64(len(s.live)) / float64(len(s.rooms))
}

// Spread is how one catalog record reached the pool.
type Spread struct {
	// Gossiped is the share of the other members the origin's gossip
	// reached, and GossipDone when the last of them got it.
	Gossiped   float64
	GossipDone time.Duration
	// All is when every member held it (gossip or state exchange); 0 when
	// not within the timeout.
	All time.Duration
}

// spread makes record i on one member and follows it until every member
// holds it or the catalog timeout passes.
func (s *sim) spread(ctx context.Context, i int) (Spread, error) {
	from := s.live[i%len(s.live)]
	rec := fmt.Sprintf("catalog-record-%d-%0200d", i, 0)
	t := time.Now()
	from.hold(rec)
	if err := from.m.Broadcast([]byte(rec)); err != nil {
		return Spread{}, err
	}
	deadline := t.Add(s.cfg.CatalogTimeout)
	var sp Spread
	for {
		var gossiped, held int
		var last time.Time
		for _, m := range s.live {
			if m == from {
				continue
			}
			if r, ok := m.received(rec); ok {
				held++
				if r.byGossip {
					gossiped++
					if r.at.After(last) {
						last = r.at
					}
				}
			}
		}
		others := len(s.live) - 1
		sp.Gossiped = float64(gossiped) / float64(others)
		if gossiped > 0 {
			sp.GossipDone = last.Sub(t)
		}
		if held == others {
			sp.All = time.Since(t)
			return sp, nil
		}
		if time.Now().After(deadline) {
			return sp, nil
		}
		select {
		case <-ctx.Done():
			return sp, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// shutdown stops every member at once: a member's Shutdown waits for its
// rejoin loop, which may be in a join attempt (of a departed member's
// address) that only its TCP timeout ends.
func (s *sim) shutdown() {
	var wg sync.WaitGroup
	for _, m := range s.live {
		wg.Go(func() { _ = m.m.Shutdown() })
	}
	wg.Wait()
	s.live = nil
}
