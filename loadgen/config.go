package loadgen

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Modes of a run.
const (
	// ModeRooms is the event workload: connections in rooms, reactions,
	// schedule broadcasts, churn.
	ModeRooms = "rooms"
	// ModeIngest floods room.react: every connection keeps Window frames
	// in flight and counts the replies.
	ModeIngest = "ingest"
	// ModeEcho sends the same frames to the echo fixture (loadgen/echo),
	// the ceiling ingest is compared with.
	ModeEcho = "echo"
)

// Dialects the load generator speaks.
const (
	DialectVenueless = "venueless"
	DialectSocketIO  = "socketio"
)

// Config is a load generator run; every field is a flag of
// `roomring loadgen`.
type Config struct {
	Mode    string
	Dialect string
	// Targets are the nodes' (or the echo server's) host:port; connection
	// i goes to Targets[i mod len].
	Targets List
	World   string
	// Conns is the number of client connections (moderators come on top).
	Conns int
	// Procs is the number of worker processes; 1 runs in-process.
	Procs int
	// Sources are the local addresses connections are made from;
	// connection i uses Sources[i mod len]. Each loopback address has its
	// own ephemeral port range.
	Sources     IPList
	ConnectRate float64
	DialTimeout time.Duration

	BigRoom  string
	BigShare float64
	// Rooms takes the connections not in the big room, round robin; without
	// Rooms they only authenticate (idle connections).
	Rooms List

	ReactionRate  float64
	BroadcastRate float64
	Moderators    int
	ChurnRate     float64
	// Window is the number of frames each connection keeps in flight in
	// the ingest and echo modes.
	Window int

	JWTSecret string
	Guests    bool

	RampTimeout time.Duration
	Warmup      time.Duration
	Duration    time.Duration
	Interval    time.Duration
	// Drain is the longest wait, after the load stops, for the replies in
	// flight and the pushes they cause; the wait ends early once nothing
	// is in flight and nothing arrived for DrainQuiet.
	Drain      time.Duration
	DrainQuiet time.Duration

	ServerPIDs IntList
	JSONOut    string
	// Epoll reads the connections from epoll loops (Linux); off, each
	// connection has a reading goroutine.
	Epoll bool

	// Set by the parent for its worker processes.
	WorkerIndex int
	RunID       string
}

// RegisterFlags registers the run's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Mode, "mode", ModeRooms, "rooms (event workload), ingest (flood room.react) or echo (flood the echo fixture)")
	fs.StringVar(&c.Dialect, "dialect", DialectVenueless, "client protocol: venueless or socketio (Engine.IO 4)")
	fs.Var(&c.Targets, "target", "node host:port, comma-separated or repeated for a cluster (connections round robin)")
	fs.StringVar(&c.World, "world", "default", "world id of the venueless endpoint")
	fs.IntVar(&c.Conns, "conns", 100, "client connections (moderators come on top)")
	fs.IntVar(&c.Procs, "procs", 1, "worker processes (each may hold up to ~19,000 sockets); 1 runs in-process")
	fs.Var(&c.Sources, "src", "local source addresses, comma-separated, ranges allowed (127.0.0.2-127.0.0.9); default: the kernel's choice")
	fs.Float64Var(&c.ConnectRate, "connect-rate", 2000, "new connections per second, all workers together")
	fs.DurationVar(&c.DialTimeout, "dial-timeout", 10*time.Second, "timeout of one connection's dial, handshake and setup")
	fs.StringVar(&c.BigRoom, "big-room", "room_1", "the big room's id")
	fs.Float64Var(&c.BigShare, "big-share", 1, "share of connections in the big room (0..1)")
	fs.Var(&c.Rooms, "rooms", "rooms of the other connections, comma-separated; {a..b} expands (lg-{1..50}); none: they only authenticate")
	fs.Float64Var(&c.ReactionRate, "reaction-rate", 0, "room.react frames per second, all connections together (socketio: resource:setReaction)")
	fs.Float64Var(&c.BroadcastRate, "broadcast-rate", 0, "moderator room.schedule updates of the big room per second (socketio: resource:setReaction)")
	fs.IntVar(&c.Moderators, "moderators", 0, "moderator connections sending the broadcasts (0: one per 10 broadcasts/s)")
	fs.Float64Var(&c.ChurnRate, "churn-rate", 0, "room leave+enter cycles per second, all connections together")
	fs.IntVar(&c.Window, "window", 8, "frames each connection keeps in flight (ingest, echo)")
	fs.StringVar(&c.JWTSecret, "jwt-secret", "", "HS256 secret of the node(s), to mint tokens (env ROOMRING_JWT_SECRET)")
	fs.BoolVar(&c.Guests, "guests", false, "participants authenticate as guests (client_id; node --dev or --allow-guests); moderators still need --jwt-secret")
	fs.DurationVar(&c.RampTimeout, "ramp-timeout", 5*time.Minute, "longest wait for the connections to be established")
	fs.DurationVar(&c.Warmup, "warmup", 5*time.Second, "load before measuring")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "measured time")
	fs.DurationVar(&c.Interval, "interval", time.Second, "progress report interval")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "longest wait after the load for replies in flight and the pushes they cause")
	fs.DurationVar(&c.DrainQuiet, "drain-quiet", 250*time.Millisecond, "the drain ends once nothing is in flight and nothing arrived for this long")
	fs.Var(&c.ServerPIDs, "server-pid", "pid of a server process to sample RSS and CPU from /proc, comma-separated or repeated")
	fs.StringVar(&c.JSONOut, "json", "", "also write the result as JSON to this file")
	fs.BoolVar(&c.Epoll, "epoll", true, "read connections from epoll loops (Linux) rather than a goroutine per connection")
	fs.IntVar(&c.WorkerIndex, "worker", -1, "internal: run as worker process N of --procs, reporting on stdout")
	fs.StringVar(&c.RunID, "run-id", "", "internal: the run's id, a prefix of user ids")
}

// Complete fills derived values.
func (c *Config) Complete() {
	if c.JWTSecret == "" {
		c.JWTSecret = os.Getenv("ROOMRING_JWT_SECRET")
	}
	if c.Moderators == 0 && c.BroadcastRate > 0 {
		// The node lets a connection send 20 frames/s by default; stay at
		// half of that per moderator.
		c.Moderators = int(math.Ceil(c.BroadcastRate / 10))
	}
	if c.Mode != ModeRooms {
		c.Moderators = 0
	}
	if c.RunID == "" {
		c.RunID = strconv.FormatInt(time.Now().Unix()%1_000_000, 36)
	}
}

// Validate reports a run that cannot work.
func (c *Config) Validate() error {
	var errs []error
	switch c.Mode {
	case ModeRooms, ModeIngest, ModeEcho:
	default:
		errs = append(errs, fmt.Errorf("--mode must be rooms, ingest or echo, not %q", c.Mode))
	}
	switch c.Dialect {
	case DialectVenueless, DialectSocketIO:
	default:
		errs = append(errs, fmt.Errorf("--dialect must be venueless or socketio, not %q", c.Dialect))
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("--target is required"))
	}
	for _, t := range c.Targets {
		if _, _, err := net.SplitHostPort(t); err != nil {
			errs = append(errs, fmt.Errorf("--target %q: %w", t, err))
		}
	}
	if c.Conns < 1 {
		errs = append(errs, errors.New("--conns must be at least 1"))
	}
	if c.Procs < 1 {
		errs = append(errs, errors.New("--procs must be at least 1"))
	}
	if c.ConnectRate <= 0 || c.DialTimeout <= 0 {
		errs = append(errs, errors.New("--connect-rate and --dial-timeout must be positive"))
	}
	if c.BigShare < 0 || c.BigShare > 1 {
		errs = append(errs, errors.New("--big-share must be within 0..1"))
	}
	if c.Mode != ModeEcho {
		if c.BigShare > 0 && c.BigRoom == "" {
			errs = append(errs, errors.New("--big-room is required when --big-share > 0"))
		}
		if c.JWTSecret == "" && !c.Guests {
			errs = append(errs, errors.New("--jwt-secret (or ROOMRING_JWT_SECRET) is required, or --guests"))
		}
	}
	if c.ReactionRate < 0 || c.BroadcastRate < 0 || c.ChurnRate < 0 {
		errs = append(errs, errors.New("rates must not be negative"))
	}
	if c.BroadcastRate > 0 {
		if c.JWTSecret == "" {
			errs = append(errs, errors.New("broadcasts need moderators, whose tokens need --jwt-secret"))
		}
		if c.BigShare == 0 && c.Mode == ModeRooms {
			errs = append(errs, errors.New("broadcasts go to the big room: --big-share must be > 0"))
		}
	}
	if c.Moderators < 0 {
		errs = append(errs, errors.New("--moderators must not be negative"))
	}
	if c.Window < 1 {
		errs = append(errs, errors.New("--window must be at least 1"))
	}
	if c.Dialect == DialectSocketIO && c.Mode == ModeIngest {
		errs = append(errs, errors.New("--mode ingest speaks venueless room.react only"))
	}
	if c.RampTimeout <= 0 || c.Warmup < 0 || c.Duration <= 0 || c.Interval <= 0 {
		errs = append(errs, errors.New("--ramp-timeout, --duration and --interval must be positive, --warmup not negative"))
	}
	if c.Drain < 0 || c.DrainQuiet < 0 {
		errs = append(errs, errors.New("--drain and --drain-quiet must not be negative"))
	}
	if c.Window > pendingSlots {
		errs = append(errs, fmt.Errorf("--window must be at most %d", pendingSlots))
	}
	if c.WorkerIndex >= c.Procs {
		errs = append(errs, errors.New("--worker must be below --procs"))
	}
	for _, p := range c.ServerPIDs {
		if p <= 0 {
			errs = append(errs, fmt.Errorf("--server-pid %d is not a pid", p))
		}
	}
	return errors.Join(errs...)
}

// workerArgs are the flags that make a worker process run the same
// configuration as worker i. The JWT secret is not among them: it goes
// through the environment, out of the process list.
func (c *Config) workerArgs(i int) []string {
	var cp Config
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	cp.RegisterFlags(fs) // binds the flags to cp's fields
	cp = *c
	cp.WorkerIndex, cp.ServerPIDs, cp.JSONOut = i, nil, ""
	var args []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "jwt-secret" {
			args = append(args, "--"+f.Name+"="+f.Value.String())
		}
	})
	return args
}

// List is a comma-separated (or repeated) string flag; {a..b} in an item
// expands to the integers a to b.
type List []string

func (l *List) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value.
func (l *List) Set(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		exp, err := expandRange(item)
		if err != nil {
			return err
		}
		*l = append(*l, exp...)
	}
	return nil
}

// expandRange expands one "{a..b}" in s.
func expandRange(s string) ([]string, error) {
	i := strings.Index(s, "{")
	if i < 0 {
		return []string{s}, nil
	}
	j := strings.Index(s[i:], "}")
	if j < 0 {
		return nil, fmt.Errorf("unclosed { in %q", s)
	}
	lo, hi, ok := strings.Cut(s[i+1:i+j], "..")
	a, err1 := strconv.Atoi(lo)
	b, err2 := strconv.Atoi(hi)
	if !ok || err1 != nil || err2 != nil || a > b || b-a > 100_000 {
		return nil, fmt.Errorf("bad range in %q: want {a..b}", s)
	}
	out := make([]string, 0, b-a+1)
	for n := a; n <= b; n++ {
		out = append(out, s[:i]+strconv.Itoa(n)+s[i+j+1:])
	}
	return out, nil
}

// IPList is a comma-separated list of IP addresses and ranges (a-b, the
// last byte varying).
type IPList []net.IP

func (l *IPList) String() string {
	parts := make([]string, len(*l))
	for i, ip := range *l {
		parts[i] = ip.String()
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value.
func (l *IPList) Set(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(item, "-")
		a := net.ParseIP(lo).To4()
		if a == nil {
			return fmt.Errorf("%q is not an IPv4 address", lo)
		}
		if !isRange {
			*l = append(*l, a)
			continue
		}
		b := net.ParseIP(hi).To4()
		if b == nil || !a[:3:3].Equal(b[:3:3]) || a[3] > b[3] {
			return fmt.Errorf("bad address range %q: want a.b.c.x-a.b.c.y", item)
		}
		for n := int(a[3]); n <= int(b[3]); n++ {
			*l = append(*l, net.IPv4(a[0], a[1], a[2], byte(n)).To4())
		}
	}
	return nil
}

// IntList is a comma-separated (or repeated) list of integers.
type IntList []int

func (l *IntList) String() string {
	parts := make([]string, len(*l))
	for i, n := range *l {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// Set implements flag.Value.
func (l *IntList) Set(s string) error {
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		n, err := strconv.Atoi(item)
		if err != nil {
			return fmt.Errorf("%q is not a number", item)
		}
		*l = append(*l, n)
	}
	return nil
}
