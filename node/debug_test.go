package node_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

func TestDebugAddrMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"": true, "127.0.0.1:6060": true, "[::1]:0": true,
		"0.0.0.0:6060": false, ":6060": false, "10.1.2.3:6060": false, "localhost": false} {
		c := node.DebugConfig{Addr: addr}
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("--debug-addr %q: %v", addr, err)
		}
	}
}

func TestDebugAddrServesProfiles(t *testing.T) {
	cfg := nodetest.Config(t, "")
	cfg.Debug.Addr = "127.0.0.1:0"
	n := nodetest.Start(t, cfg)
	if n.DebugAddr() == "" || n.DebugAddr() == n.Addr() {
		t.Fatalf("debug listener %q (client listener %q)", n.DebugAddr(), n.Addr())
	}
	resp, err := http.Get("http://" + n.DebugAddr() + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "goroutine profile") {
		t.Errorf("status %s, body %.200q", resp.Status, body)
	}
	// The client listener does not serve profiles.
	resp2, err := http.Get(n.HTTPURL() + "/debug/pprof/")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode == http.StatusOK {
		t.Error("the client listener serves /debug/pprof/")
	}
}
