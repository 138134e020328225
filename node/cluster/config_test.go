package cluster

import (
	"flag"
	"strings"
	"testing"

	"github.com/roomring/roomring/node/cluster/ring"
)

func parse(t *testing.T, args ...string) Config {
	t.Helper()
	var c Config
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	c.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfigDefaultsAndValidation(t *testing.T) {
	if c := parse(t); c.Enabled() {
		t.Fatal("a node without gossip flags is a cluster member")
	}
	t.Setenv(KeyEnv, "")
	c := parse(t, "--gossip-addr=10.0.0.5:7946", "--join=10.0.0.4:7946,10.0.0.6:7946")
	c.Complete(false)
	if !c.Enabled() || c.Peer.ListenAddr != "10.0.0.5:7947" || len(c.Membership.Join) != 2 {
		t.Fatalf("completed config: %+v", c)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "cluster key") {
		t.Fatalf("config without a key: %v", err)
	}
	t.Setenv(KeyEnv, "from the environment")
	c.Complete(false)
	if c.Key != "from the environment" || c.Validate() != nil {
		t.Fatalf("key from env: %q, %v", c.Key, c.Validate())
	}
	t.Setenv(KeyEnv, "")
	dev := parse(t, "--gossip-addr=127.0.0.2:0")
	dev.Complete(true)
	if dev.Key != DevKey || dev.Peer.ListenAddr != "127.0.0.2:0" {
		t.Fatalf("dev config: key %q peer %q", dev.Key, dev.Peer.ListenAddr)
	}
	// Kubernetes: bind everything, advertise the pod address.
	k := parse(t, "--gossip-addr=0.0.0.0:7946", "--gossip-advertise-addr=10.1.2.3:7946", "--peer-addr=0.0.0.0:7947", "--cluster-key=k")
	k.Complete(false)
	if k.Peer.AdvertiseAddr != "10.1.2.3:7947" || k.Validate() != nil {
		t.Fatalf("pod config: advertise %q, %v", k.Peer.AdvertiseAddr, k.Validate())
	}
	if j := parse(t, "--join=10.0.0.4:7946", "--cluster-key=k"); j.Validate() == nil {
		t.Fatal("--join without --gossip-addr accepted")
	}
	bad := parse(t, "--gossip-addr=127.0.0.2:7946", "--cluster-key=k", "--rebuild-window=5s", "--forward-timeout=3s")
	bad.Complete(false)
	if err := bad.Validate(); err == nil {
		t.Fatal("a rebuild window longer than the forward timeout accepted")
	}
	if c := parse(t); !c.FastFailover || c.FastFailoverProbeTimeout <= 0 {
		t.Fatalf("fast failover defaults: %v, %v", c.FastFailover, c.FastFailoverProbeTimeout)
	}
	for _, probe := range []string{"0s", "5s"} {
		bad := parse(t, "--gossip-addr=127.0.0.2:7946", "--cluster-key=k", "--fast-failover-probe-timeout="+probe)
		bad.Complete(false)
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "fast-failover-probe-timeout") {
			t.Fatalf("--fast-failover-probe-timeout=%s: %v", probe, err)
		}
	}
	off := parse(t, "--gossip-addr=127.0.0.2:7946", "--cluster-key=k", "--fast-failover=false")
	off.Complete(false)
	if off.FastFailover || off.Validate() != nil {
		t.Fatalf("--fast-failover=false: %v, %v", off.FastFailover, off.Validate())
	}
}

func TestMemberNameIsUniquePerRun(t *testing.T) {
	a, b := MemberName("roomring-0"), MemberName("roomring-0")
	if a == b || !strings.HasPrefix(a, "roomring-0-") || !ring.ValidName(a) {
		t.Fatalf("names %q and %q", a, b)
	}
	if n := MemberName("weird host/name!"); !ring.ValidName(n) || !strings.HasPrefix(n, "weirdhostname-") {
		t.Fatalf("sanitised name %q", n)
	}
}
