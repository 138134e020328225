package server_test

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/server"
)

// TestHTTPWriteTimeoutFlag checks --http-write-timeout: a node flag with a
// 10s default, parsed into HTTPConfig.WriteTimeout, and refused unless
// positive.
func TestHTTPWriteTimeoutFlag(t *testing.T) {
	var cfg node.Config
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	f := fs.Lookup("http-write-timeout")
	if f == nil {
		t.Fatal("no --http-write-timeout flag")
	}
	if f.DefValue != "10s" || cfg.HTTP.WriteTimeout != 10*time.Second {
		t.Fatalf("default %s (%v), want 10s", f.DefValue, cfg.HTTP.WriteTimeout)
	}
	if err := fs.Parse([]string{"--http-write-timeout", "3s"}); err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.WriteTimeout != 3*time.Second {
		t.Fatalf("parsed %v, want 3s", cfg.HTTP.WriteTimeout)
	}
	if err := cfg.HTTP.Validate(); err != nil {
		t.Fatalf("valid: %v", err)
	}
	for _, d := range []time.Duration{0, -time.Second} {
		c := server.DefaultHTTPConfig()
		c.WriteTimeout = d
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--http-write-timeout") {
			t.Errorf("write timeout %v: %v, want an error naming --http-write-timeout", d, err)
		}
	}
}
