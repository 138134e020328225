// Package node assembles a roomring node from its parts — store, catalog,
// room owner, edge, engine, HTTP server — and runs it until shutdown.
package node

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/roomring/roomring/node/admin"
	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/cluster"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/kube"
	"github.com/roomring/roomring/node/protocol/socketio"
	"github.com/roomring/roomring/node/reaction"
	"github.com/roomring/roomring/node/server"
	"github.com/roomring/roomring/node/session"
	"github.com/roomring/roomring/node/store/postgres"
)

// Config is a node's configuration; every field is a flag of `roomring node`.
type Config struct {
	Listen      string
	DataDir     string
	RoomsFile   string
	Dev         bool
	JWTSecret   string
	JWTIssuer   string
	JWTAudience string
	AllowGuests bool
	WorldID     string
	WorldTitle  string
	// WorldTraitGrants are the built-in world's trait grants, JSON in
	// venueless' shape (role → rules); empty: DevGrants with --dev, else
	// only {"viewer": []} (everyone views, nobody administers).
	WorldTraitGrants string
	// SecretsDir holds the JWT secrets a --rooms file's World manifests
	// reference: DIR/<secret name>/<key>, as a mounted Secret.
	SecretsDir string
	PublicURL  string
	// InviteRedirect is where the built-in world's invite links
	// (/i/<code>) send the browser: a path or URL template with {room}
	// and {code}.
	InviteRedirect string
	// MaxConnsPerUser bounds one user's connections on this node; the oldest
	// is replaced (venueless' connection.replaced) beyond it.
	MaxConnsPerUser int
	// MaxProfileBytes bounds the token profile claim a connection keeps
	// (compact JSON); a larger one is refused at authentication.
	MaxProfileBytes int
	// WorldViewCacheEntries bounds the encoded world views each world
	// keeps for authentications and world.updated (0: none).
	WorldViewCacheEntries int
	LogLevel              string
	LogFormat             string
	// HTTP bounds the listeners' HTTP connections (docs/limits.md).
	HTTP server.HTTPConfig
	// Conns caps client websockets, node-wide and per address (docs/limits.md).
	Conns server.ConnLimits
	// Surface chooses where /metrics and the demo page are served.
	Surface server.Surface
	// Invites bound failed invite redemptions per address (docs/limits.md).
	Invites engine.InviteLimits
	Session session.Config
	// SocketIO configures Valu's Socket.IO endpoint (docs/socketio.md).
	SocketIO socketio.Config
	// Reactions bounds resource reactions (docs/socketio.md).
	Reactions reaction.Config
	// Store selects the durable store: "" or "bolt" for the embedded bbolt
	// store in DataDir, a postgres:// DSN for PostgreSQL (docs/storage.md).
	Store string
	// Postgres tunes the PostgreSQL store (DSN comes from Store).
	Postgres postgres.Config
	// AllowNodeLocalStore lets a cluster member run on the embedded store:
	// each node then keeps the reactions of the rooms it owns to itself
	// (tests and benchmarks only; see validateStore).
	AllowNodeLocalStore bool
	// NodeName names this node in the pool: the owner node in Room status
	// (default: the host name, a pod's name under Kubernetes).
	NodeName string
	// Admin configures the operator's admin API (docs/operator.md).
	Admin admin.Config
	// Cluster makes the node a member of a pool (docs/cluster.md); without
	// --gossip-addr and --join the node is standalone.
	Cluster cluster.Config
	// Kube makes admin actions write Room resources (docs/operator.md).
	Kube kube.Config
	// Debug serves Go profiles on a loopback listener (docs/benchmarks.md).
	Debug DebugConfig
	// Catalog sets how long deleted rooms' tombstones are kept
	// (docs/cluster.md#tombstones).
	Catalog catalog.Config
	// Announce sets how catalog changes reach the sessions: at most one
	// world.updated per --world-update-window (docs/limits.md).
	Announce announce.Config
	// TestBeforeFrame is a test hook, never a flag: called with each
	// client frame before its handler, under the connection's panic
	// recovery (server.Config.BeforeFrame).
	TestBeforeFrame func(frame []byte)
}

// RegisterFlags registers the node's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8080", "HTTP/websocket listen address")
	fs.StringVar(&c.DataDir, "data-dir", "", "directory of the embedded store (default: ./data, or a temporary directory with --dev)")
	fs.StringVar(&c.RoomsFile, "rooms", "", "YAML file of Room manifests applied on start: rooms whose manifest is new or changed since it was last applied are created or replaced, the others keep their websocket changes")
	fs.BoolVar(&c.Dev, "dev", false, "development mode: sample rooms, guests allowed, dev trait grants, a generated JWT secret unless one is given")
	fs.StringVar(&c.JWTSecret, "jwt-secret", "", "HS256 secret of session tokens (env ROOMRING_JWT_SECRET)")
	fs.StringVar(&c.JWTIssuer, "jwt-issuer", "", "required iss claim of session tokens (empty: any)")
	fs.StringVar(&c.JWTAudience, "jwt-audience", "", "required aud claim of session tokens (empty: any)")
	fs.BoolVar(&c.AllowGuests, "allow-guests", false, "admit clients that authenticate with a client_id only (always on with --dev)")
	fs.StringVar(&c.WorldID, "world", "default", "the world id served at /ws/world/{world}/")
	fs.StringVar(&c.WorldTitle, "world-title", "roomring", "the world's title in world.config")
	fs.StringVar(&c.WorldTraitGrants, "world-trait-grants", "", `the built-in world's trait grants, JSON in venueless' shape, e.g. {"viewer": [], "admin": ["admin"]} (default: {"viewer": []}; with --dev: viewer for all, moderator and admin by the traits of the same names)`)
	fs.StringVar(&c.SecretsDir, "secrets-dir", "", "directory of the JWT secrets World manifests of --rooms reference, laid out like a mounted Secret: DIR/<secret name>/<key>")
	fs.StringVar(&c.PublicURL, "public-url", "", "public base URL of this service, for invite links (default: http://<bound listen address>)")
	fs.StringVar(&c.InviteRedirect, "invite-redirect", engine.DefaultInviteRedirect, "where an invite link /i/<code> sends the browser: a path or http(s) URL template with {room} and {code} (default: venueless' web-app route; the demo page serves it too)")
	fs.IntVar(&c.MaxConnsPerUser, "max-conns-per-user", 16, "connections one user may hold on a node; more replace the oldest (0: unlimited)")
	fs.IntVar(&c.MaxProfileBytes, "max-profile-bytes", auth.DefaultMaxProfileBytes, "largest profile claim of a session token a connection may keep, in bytes of compact JSON; a token with a larger one is refused (auth.denied; Socket.IO: invalidConnection 403) (0: no limit but --max-frame-bytes)")
	fs.IntVar(&c.WorldViewCacheEntries, "world-view-cache-entries", engine.DefaultWorldViewCacheEntries, "encoded world views (world.config) each world keeps, one per class of users (the traits its grants name, or an invite's room), dropped whenever a room or an occupancy bucket changes; least recently used beyond it (0: build every view)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format: text or json")
	c.HTTP.RegisterFlags(fs)
	c.Conns.RegisterFlags(fs)
	c.Surface.RegisterFlags(fs)
	c.Invites.RegisterFlags(fs)
	c.Session.RegisterFlags(fs)
	c.SocketIO.RegisterFlags(fs)
	c.Reactions.RegisterFlags(fs)
	fs.StringVar(&c.NodeName, "node-name", "", "this node's name in the pool, reported as a room's owner (default: the host name; in a cluster the host name plus a random suffix, unique to this run)")
	fs.StringVar(&c.NodeName, "name", "", "same as --node-name")
	c.Cluster.RegisterFlags(fs)
	c.Admin.RegisterFlags(fs)
	c.Kube.RegisterFlags(fs)
	c.registerStoreFlags(fs)
	c.Debug.RegisterFlags(fs)
	c.Catalog.RegisterFlags(fs)
	c.Announce.RegisterFlags(fs)
}

// Complete fills values that derive from others and from the environment.
func (c *Config) Complete() {
	if c.JWTSecret == "" {
		c.JWTSecret = os.Getenv("ROOMRING_JWT_SECRET")
	}
	if c.Dev {
		c.AllowGuests = true
	}
	c.completeStore()
	if c.NodeName == "" {
		host, _ := os.Hostname()
		c.NodeName = host
		if c.Cluster.Enabled() && host != "" {
			// A restarted node must be a new member (see cluster.MemberName).
			c.NodeName = cluster.MemberName(host)
		}
	}
	if c.Cluster.Enabled() {
		c.Cluster.Complete(c.Dev)
	}
	c.Admin.Complete()
	// An empty PublicURL is derived from the bound address once listening
	// (the listen address may have port 0 or no host).
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
}

// Warning is a setting that works but is likely a mistake: the node logs it
// at start (Msg and the slog attributes Args) and runs anyway.
type Warning struct {
	Msg  string
	Args []any
}

// Warnings reports the completed configuration's warnings.
func (c *Config) Warnings() []Warning {
	var w []Warning
	if c.Admin.Listen == "" && c.Admin.Token != "" {
		w = append(w, Warning{Msg: "the admin API is served on the client listener (--listen); set --admin-listen to serve it on an address clients cannot reach"})
	}
	return append(w, c.storeWarnings()...)
}

// Validate reports configuration errors.
func (c *Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("--listen is required"))
	}
	if c.JWTSecret == "" && !c.Dev {
		errs = append(errs, errors.New("a JWT secret is required: --jwt-secret or ROOMRING_JWT_SECRET (or --dev)"))
	}
	if c.JWTSecret != "" && len(c.JWTSecret) < 16 {
		errs = append(errs, errors.New("the JWT secret must be at least 16 characters"))
	}
	errs = append(errs, c.validateWorld()...)
	if c.MaxConnsPerUser < 0 {
		errs = append(errs, errors.New("--max-conns-per-user must be >= 0"))
	}
	if c.MaxProfileBytes < 0 {
		errs = append(errs, errors.New("--max-profile-bytes must be >= 0"))
	}
	if c.WorldViewCacheEntries < 0 {
		errs = append(errs, errors.New("--world-view-cache-entries must be >= 0"))
	}
	if err := c.HTTP.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Invites.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Conns.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Surface.Validate(c.Admin.Listen != ""); err != nil {
		errs = append(errs, err)
	}
	if err := c.Announce.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Session.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.SocketIO.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Reactions.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validateStore(); err != nil {
		errs = append(errs, err)
	}
	if err := c.validatePoolStore(); err != nil {
		errs = append(errs, err)
	}
	if c.NodeName == "" {
		errs = append(errs, errors.New("--node-name is required (the host name is unknown)"))
	}
	if err := c.Admin.Validate(); err != nil {
		errs = append(errs, err)
	}
	if _, port, _ := net.SplitHostPort(c.Listen); c.Admin.Listen == c.Listen && c.Listen != "" && port != "0" {
		errs = append(errs, errors.New("--admin-listen must differ from --listen"))
	}
	if err := c.Kube.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Debug.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Catalog.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Kube.Enabled() && c.RoomsFile != "" {
		errs = append(errs, errors.New("--rooms cannot be used with --kube-namespace: rooms come from the Room resources"))
	}
	if c.Cluster.Enabled() {
		if err := c.Cluster.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// validateWorld reports errors in the built-in world's flags.
func (c *Config) validateWorld() []error {
	var errs []error
	if c.WorldID == "" || strings.ContainsAny(c.WorldID, "/?#") {
		errs = append(errs, fmt.Errorf("invalid --world %q", c.WorldID))
	}
	if _, err := c.parseWorldGrants(); err != nil {
		errs = append(errs, err)
	}
	if c.InviteRedirect != "" {
		if err := engine.ValidateInviteRedirect(c.InviteRedirect); err != nil {
			errs = append(errs, fmt.Errorf("--invite-redirect: %w", err))
		}
	}
	return errs
}
