package cmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/roomring/roomring/loadgen"
	"github.com/roomring/roomring/loadgen/echo"
)

const loadgenUsage = `usage:
  roomring loadgen [flags]              run a load against --target (see -h)
  roomring loadgen echo-server [flags]  run the echo fixture that ingest is compared with
  roomring loadgen rooms ROOMS...       print Room manifests for a node's --rooms (ids; {a..b} expands)
`

func runLoadgen(args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "echo-server":
			return runEcho(args[1:])
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
