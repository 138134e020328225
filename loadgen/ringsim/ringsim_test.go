package ringsim

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
)

// TestSimulationMeasuresEveryStep runs a small pool with fast gossip: every
// step ends in agreement, a join and a departure move some rooms and not
// most of them, and catalog records reach every member (the push/pull
// interval is short, so the state exchange repairs what gossip missed).
// Nothing is asserted about times.
func TestSimulationMeasuresEveryStep(t *testing.T) {
	var cfg Config
	cfg.RegisterFlags(flag.NewFlagSet("ringsim", flag.ContinueOnError))
	cfg.Members, cfg.Rooms, cfg.Messages = 6, 5000, 2
	cfg.StartRate = 50
	cfg.Gossip.ProbeInterval, cfg.Gossip.ProbeTimeout = 200*time.Millisecond, 100*time.Millisecond
	cfg.Gossip.GossipInterval = 50 * time.Millisecond
	cfg.Gossip.PushPullInterval = 300 * time.Millisecond
	cfg.Gossip.JoinRetryInterval = 200 * time.Millisecond
	cfg.Gossip.LeaveTimeout = time.Second
	cfg.CatalogTimeout = time.Minute
	res, err := Run(context.Background(), cfg, testkit.Logger(t), func(s string) { t.Log(s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 4 {
		t.Fatalf("steps %+v", res.Steps)
	}
	for _, st := range res.Steps[1:] {
		if st.Agree <= 0 || st.Moved <= 0 || st.Moved > 0.5 || st.MaxLoad < 1 {
			t.Errorf("%s: %+v", st.What, st)
		}
	}
	if len(res.Records) != 2 {
		t.Fatalf("records %+v", res.Records)
	}
	for i, sp := range res.Records {
		if sp.All <= 0 || sp.Gossiped < 0 || sp.Gossiped > 1 {
			t.Errorf("record %d: %+v", i, sp)
		}
	}
}

// TestValidateRefusesWhatCannotRun: sizes the ring or the machine cannot hold.
func TestValidateRefusesWhatCannotRun(t *testing.T) {
	var cfg Config
	cfg.RegisterFlags(flag.NewFlagSet("ringsim", flag.ContinueOnError))
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, bad := range []func(*Config){
		func(c *Config) { c.Members = 2 },
		func(c *Config) { c.Members = 150 }, // 271 partitions place at most 135
		func(c *Config) { c.Rooms = 0 },
		func(c *Config) { c.Timeout = 0 },
		func(c *Config) { c.StartTimeout = 0 },
	} {
		c := cfg
		bad(&c)
		if c.Validate() == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}
