package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/roomring/roomring/loadgen"
	"github.com/roomring/roomring/loadgen/echo"
	"github.com/roomring/roomring/loadgen/floor"
	"github.com/roomring/roomring/loadgen/ringsim"
	"github.com/roomring/roomring/node/cluster/ring"
)

const loadgenUsage = `usage:
  roomring loadgen [flags]              run a load against --target (see -h)
  roomring loadgen echo-server [flags]  run the echo fixture that ingest is compared with
  roomring loadgen floor-server [flags] run the fan-out floor: a room's broadcast written to each socket, no server logic
  roomring loadgen ringsim [flags]      simulate a pool's gossip and ring in one process (join, leave, crash)
  roomring loadgen rooms ROOMS...       print Room manifests for a node's --rooms (ids; {a..b} expands)
  roomring loadgen owner --members A,B,C ROOM
                                        print the member that owns ROOM (default ring settings)
`

func runLoadgen(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "echo-server":
			return runEcho(args[1:])
		case "floor-server":
			return runFloor(args[1:])
		case "ringsim":
			return runRingsim(args[1:])
		case "rooms":
			var ids loadgen.List
			for _, a := range args[1:] {
				if err := ids.Set(a); err != nil {
					return err
				}
			}
			if len(ids) == 0 {
				return errors.New("rooms: name at least one room id")
			}
			return loadgen.WriteRooms(os.Stdout, ids)
		case "owner":
			return runOwner(args[1:])
		case "help":
			fmt.Print(loadgenUsage)
			return nil
		}
	}
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), loadgenUsage, "\nflags:\n")
		fs.PrintDefaults()
	}
	var cfg loadgen.Config
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	deps := loadgen.Deps{Progress: os.Stderr}
	if cfg.WorkerIndex >= 0 {
		// A worker: its parent reads stdout and writes stdin. SIGINT goes
		// to the whole process group; the parent's stop command (or the end
		// of stdin) is what ends a worker.
		signal.Ignore(syscall.SIGINT)
		return loadgen.RunWorker(context.Background(), cfg, deps, os.Stdin, os.Stdout)
	}
	res, err := loadgen.Run(ctx, cfg, deps)
	if res != nil {
		res.Print(os.Stdout)
	}
	return err
}

func runEcho(args []string) error {
	fs := flag.NewFlagSet("echo-server", flag.ContinueOnError)
	var cfg echo.Config
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := echo.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "echo server listening on %s (pid %d)\n", s.Addr(), os.Getpid())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	return s.Close()
}

func runFloor(args []string) error {
	fs := flag.NewFlagSet("floor-server", flag.ContinueOnError)
	var cfg floor.Config
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	s, err := floor.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "floor server listening on %s (pid %d)\n", s.Addr(), os.Getpid())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve() }()
	select {
	case err := <-errc:
		_ = s.Close()
		return err
	case <-ctx.Done():
	}
	err = s.Close()
	fmt.Fprintln(os.Stderr, s.Stats())
	return err
}

func runRingsim(args []string) error {
	fs := flag.NewFlagSet("ringsim", flag.ContinueOnError)
	var cfg ringsim.Config
	cfg.RegisterFlags(fs)
	logLevel := fs.String("log-level", "off", "gossip log level on stderr (debug, info, warn, error; off)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.DiscardHandler)
	if *logLevel != "off" {
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(*logLevel)); err != nil {
			return fmt.Errorf("--log-level: %w", err)
		}
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lv}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := ringsim.Run(ctx, cfg, log, func(s string) { fmt.Fprintln(os.Stderr, "ringsim:", s) })
	if res != nil {
		res.Print(os.Stdout)
	}
	return err
}

// runOwner prints a room's owner among members, as the nodes' ring places it.
func runOwner(args []string) error {
	fs := flag.NewFlagSet("owner", flag.ContinueOnError)
	var members loadgen.List
	fs.Var(&members, "members", "member names, comma-separated")
	var rc ring.Config
	rc.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 || len(members) == 0 {
		return errors.New("owner: give --members and one room id")
	}
	r, err := ring.New(rc, members)
	if err != nil {
		return err
	}
	fmt.Println(r.Owner(fs.Arg(0)))
	return nil
}
