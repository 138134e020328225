// Package cmd implements roomring's subcommands; main only calls Main.
package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/auth"
)

// Version is set at build time with -ldflags.
var Version = "dev"

const usage = `usage: roomring <command> [flags]

commands:
  node      run a node
  operator  run the operator: reconcile Room resources onto the node pool
            ("operator release-finalizers": teardown without an operator,
            docs/operator.md)
  token     mint a session token (HS256) for testing
  loadgen   generate load against nodes and measure it (docs/benchmarks.md)
  version   print the version

Run "roomring <command> -h" for a command's flags.
`

// Main runs the subcommand named by args[0]. A subcommand's -h or --help
// prints its usage and is not an error.
func Main(args []string) error {
	if err := dispatch(args); !errors.Is(err, flag.ErrHelp) {
		return err
	}
	return nil
}

func dispatch(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command")
	}
	switch args[0] {
	case "node":
		return runNode(args[1:])
	case "operator":
		return runOperator(args[1:])
	case "token":
		return runToken(args[1:])
	case "loadgen":
		return runLoadgen(args[1:])
	case "version":
		fmt.Println(Version)
		return nil
	case "-h", "--help", "help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

func runNode(args []string) error {
	fs := flag.NewFlagSet("node", flag.ContinueOnError)
	var cfg node.Config
	cfg.RegisterFlags(fs)
	shutdownTimeout := fs.Duration("shutdown-timeout", 20*time.Second, "how long SIGTERM waits for connections to close")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := newLogger(cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	n, err := node.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	c := n.Config()
	log.Info("node listening", "addr", n.Addr(), "admin_addr", n.AdminAddr(), "world", c.WorldID, "data_dir", n.DataDir(), "dev", c.Dev)
	if c.Dev {
		printDevHelp(n)
	}
	errc := make(chan error, 1)
	go func() { errc <- n.Serve() }()
	select {
	case err := <-errc:
		_ = n.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := n.Shutdown(sctx); err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

func printDevHelp(n *node.Node) {
	c := n.Config()
	tok, _ := auth.Sign([]byte(c.JWTSecret), "admin-1", []string{"admin"},
		map[string]any{"display_name": "Admin"}, 24*time.Hour)
	fmt.Fprintf(os.Stderr, `
roomring is running in development mode.

  demo page:  http://%[1]s/
  websocket:  ws://%[1]s/ws/world/%[2]s/   (venueless Rooms API)
  socket.io:  http://%[1]s  path /socket, websocket transport, ?sessionId=<token>   (Valu API)
  JWT secret: %[3]s   (HS256; any iss/aud accepted in --dev)

  guest:  ["authenticate", {"client_id": "any-string"}]
  admin:  ["authenticate", {"token": "%[4]s"}]
  mint tokens: bin/roomring token --secret %[3]s --uid alice --traits moderator

`, n.Addr(), c.WorldID, c.JWTSecret, tok)
}

func runToken(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	secret := fs.String("secret", os.Getenv("ROOMRING_JWT_SECRET"), "HS256 secret (env ROOMRING_JWT_SECRET)")
	uid := fs.String("uid", "", "user id (uid claim)")
	traits := fs.String("traits", "", "comma-separated traits")
	profile := fs.String("profile", "{}", "profile claim as JSON")
	ttl := fs.Duration("ttl", 24*time.Hour, "token lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" || *uid == "" {
		return errors.New("token needs --secret and --uid")
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(*profile), &p); err != nil {
		return fmt.Errorf("--profile: %w", err)
	}
	var tr []string
	if *traits != "" {
		tr = strings.Split(*traits, ",")
	}
	tok, err := auth.Sign([]byte(*secret), *uid, tr, p, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
