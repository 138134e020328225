package ringsim

import (
	"bytes"
	"log/slog"
	"sync"
	"time"

	"github.com/roomring/roomring/node/cluster/membership"
)

// member is one simulated node: its gossip membership and a delegate that
// plays the catalog's part — records are gossiped by their origin and
// exchanged whole on push/pull, as node/cluster's catalog sync does (its
// third path, the peer links, is one direct send to every peer and is not
// simulated) — and records when and how each record arrived.
type member struct {
	name string
	m    *membership.Membership

	mu   sync.Mutex
	recv map[string]receipt // record → first receipt
}

// receipt is a record's first arrival at a member.
type receipt struct {
	at       time.Time
	byGossip bool // gossiped by its origin, not from a state exchange
}

// NotifyMsg records a gossiped record's first receipt.
func (a *member) NotifyMsg(msg []byte) { a.record(string(msg), true) }

// LocalState is every record the member holds, one a line.
func (a *member) LocalState() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	var b []byte
	for r := range a.recv {
		b = append(append(b, r...), '\n')
	}
	return b
}

// MergeRemoteState takes the records of another member's state.
func (a *member) MergeRemoteState(state []byte) {
	for len(state) > 0 {
		line, rest, _ := bytes.Cut(state, []byte("\n"))
		if len(line) > 0 {
			a.record(string(line), false)
		}
		state = rest
	}
}

func (a *member) record(r string, byGossip bool) {
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.recv[r]; !ok {
		a.recv[r] = receipt{at: now, byGossip: byGossip}
	}
}

// hold marks a record as the member's own.
func (a *member) hold(r string) { a.record(r, true) }

func (a *member) received(r string) (receipt, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.recv[r]
	return t, ok
}

// startMember starts a member bound to host:0 that joins seeds.
func startMember(cfg membership.Config, host, name string, key []byte, seeds []string, log *slog.Logger) (*member, error) {
	cfg.BindAddr = host + ":0"
	cfg.Join = seeds
	a := &member{name: name, recv: map[string]receipt{}}
	m, err := membership.New(cfg, name, key, nil, a, log, nil)
	if err != nil {
		return nil, err
	}
	a.m = m
	m.Start()
	return a, nil
}

// sees reports whether a's view is exactly names (sorted).
func (a *member) sees(names []string) bool {
	ms := a.m.Members()
	if len(ms) != len(names) {
		return false
	}
	for i, m := range ms {
		if m.Name != names[i] {
			return false
		}
	}
	return true
}
