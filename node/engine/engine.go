// Package engine executes dialect-neutral operations on behalf of an
// authenticated client: it checks permissions, then calls the catalog (room
// configuration, durable) or the room's owner (viewers, reactions, soft
// state). Both wire dialects call the same methods, so an operation behaves
// identically whichever protocol carried it.
package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store"
)

// Owner is the room owner as the engine reaches it: node/owner's Local on a
// single node, or a forwarder to the ring owner in a cluster (node/cluster).
// Enter with withViewers false records the presence without answering the
// room's viewer list, which costs the room's size: for sessions that may
// not see it. Implementations are safe for concurrent use; the engine
// serialises each user's presence changes (Enter, Leave) itself. A Leave
// cannot fail: a cluster's forwarder repairs one it cannot deliver (the
// room's members are re-announced to its owner).
type Owner interface {
	Enter(ctx context.Context, room string, u op.User, edge string, withViewers bool) ([]op.User, error)
	Leave(ctx context.Context, room, userID, edge string)
	React(ctx context.Context, room, userID, reaction string) error
	Announce(ctx context.Context, room string, ev *op.Event) error
	Forget(ctx context.Context, room string) error
}

// Config is the world's configuration as the engine needs it.
type Config struct {
	WorldID    string
	WorldTitle string
	// Builtin makes this the node's built-in world: it also serves the
	// rooms that name no world (catalog.Scope).
	Builtin bool
	// InviteBaseURL is prefixed to anonymous invite codes ("<base>/<code>").
	InviteBaseURL string
	// InviteRedirect is where an invite link sends the browser: a path or
	// URL template with {room} and {code} (ValidateInviteRedirect; empty:
	// DefaultInviteRedirect, venueless' route). A world may set its own.
	InviteRedirect string
	// AllowGuests admits clients that authenticate with a client_id only.
	AllowGuests bool
	// MaxConnsPerUser bounds a user's concurrent authenticated connections on
	// this node; connecting beyond it replaces the oldest (0: unlimited).
	MaxConnsPerUser int
	// MaxProfileBytes bounds the profile claim a connection keeps (compact
	// JSON bytes); a token with a larger one is refused with auth.denied
	// (0: no limit but the frame's).
	MaxProfileBytes int
	// WorldViewCacheEntries bounds the encoded world views the world keeps,
	// one per class of users (viewCache; 0: none, each is built). Node-wide,
	// kept by Reconfigure.
	WorldViewCacheEntries int
	// Invites bound failed invite redemptions per source address.
	Invites InviteLimits
	// Quotas bound the world's share of this node.
	Quotas Quotas
	// Reactions are the reactions of the world's rooms that do not
	// restrict theirs (allow all of catalog.DefaultReactions); empty: all.
	Reactions []string
}

// Engine serves the clients of one world of a node; a node has one per
// world (all sharing its catalog, owner, edge and announcer). Its world
// configuration (settings) may be replaced while it serves (Reconfigure).
type Engine struct {
	set      atomic.Pointer[settings]
	scope    catalog.Scope
	catalog  *catalog.Catalog
	rooms    RoomWriter
	owner    Owner
	edge     *edge.Edge
	announce *announce.Announcer
	log      *slog.Logger
	// encodeWorld encodes world views (Deps.EncodeWorld).
	encodeWorld WorldEncoder

	// resources is nil on nodes without resource reactions (503 then).
	resources ResourceReactions

	// presence serialises each user's room presence changes (see userLocks).
	presence userLocks

	// redeems limits failed invite redemptions per address (invites.go).
	redeems *redeemLimiter

	mu      sync.Mutex
	perUser map[string][]*Client // oldest first
	conns   int                  // clients started and not closed
	sockets int                  // websockets admitted (Admit), for the quota
	closed  bool                 // the world is gone (CloseWorld)
}

// Deps are the engine's collaborators.
type Deps struct {
	Verifier *auth.Verifier
	Policy   *auth.Policy
	Catalog  *catalog.Catalog
	Owner    Owner
	Edge     *edge.Edge
	Logger   *slog.Logger

	// EncodeWorld encodes the world views of Client.EncodedWorld, which
	// needs it (venueless' world.updated push).
	EncodeWorld WorldEncoder

	// Resources serves resource reactions (optional).
	Resources ResourceReactions

	// Rooms is where admin actions write room configuration (optional; the
	// Catalog when nil). Under Kubernetes it writes the Room resources.
	Rooms RoomWriter

	// Announce tells the node's sessions about catalog changes (optional:
	// one without coalescing, delivering to Edge, when nil). A node shares
	// its Announcer with its cluster (cluster.Deps.Announce).
	Announce *announce.Announcer
}

// New returns an Engine.
func New(cfg Config, d Deps) *Engine {
	if d.Rooms == nil {
		d.Rooms = d.Catalog
	}
	if d.Announce == nil {
		d.Announce = announce.New(d.Edge, 0)
	}
	e := &Engine{scope: catalog.Scope{World: cfg.WorldID, Builtin: cfg.Builtin}, catalog: d.Catalog, rooms: d.Rooms,
		owner: d.Owner, resources: d.Resources, edge: d.Edge, announce: d.Announce, log: d.Logger, perUser: map[string][]*Client{},
		redeems: newRedeemLimiter(cfg.Invites), encodeWorld: d.EncodeWorld}
	e.set.Store(&settings{cfg: cfg, verifier: d.Verifier, policy: d.Policy, frames: newFrameBudget(cfg.Quotas),
		views: newViewCache(cfg.WorldViewCacheEntries)})
	return e
}

// Catalog returns the engine's catalog.
func (e *Engine) Catalog() *catalog.Catalog { return e.catalog }

// Sink is what a client's connection offers the engine besides fan-out: a
// way to be replaced by a newer connection of the same user.
type Sink interface {
	edge.Subscriber
	// Replaced tells the connection it was replaced and must close.
	Replaced()
	// WorldClosed tells the connection its world is gone and it must
	// close (venueless: an error frame, Socket.IO: a disconnect).
	WorldClosed()
}

// Authenticate turns credentials into a user.
func (e *Engine) Authenticate(ctx context.Context, cred op.Credentials) (*auth.User, *op.Error) {
	var u *auth.User
	switch {
	case cred.Token != "":
		claims, err := e.settings().verifier.Verify(cred.Token)
		if err != nil {
			return nil, err
		}
		u, err = auth.NewUser(claims, e.settings().cfg.MaxProfileBytes)
		if err != nil {
			return nil, err
		}
	case cred.ClientID != "" && cred.InviteToken != "":
		if !e.redeems.allow(cred.Source) {
			return nil, op.Errorf(op.CodeAuthDenied, "too many failed invite redemptions from this address; try again later")
		}
		room, err := e.catalog.Redeem(ctx, cred.InviteToken)
		if err == nil && !e.catalog.View(room, func(r *catalog.Room) {
			if !e.scope.Has(r) {
				err = op.Errorf(op.CodeAuthDenied, "invite is unknown or expired")
			}
		}) {
			err = op.Errorf(op.CodeAuthDenied, "invite is unknown or expired")
		}
		if err != nil {
			var oe *op.Error
			if errors.As(err, &oe) && oe.Code == op.CodeAuthDenied {
				e.redeems.failed(cred.Source)
			}
			return nil, e.internal(ctx, "authenticate", err)
		}
		u = &auth.User{ID: guestID(e.scope.World, cred.ClientID), Profile: guestProfile(cred.DisplayName), Guest: true, InviteRoom: room}
	case cred.ClientID != "":
		if !e.settings().cfg.AllowGuests {
			return nil, op.Errorf(op.CodeAuthDenied, "this world does not admit guests")
		}
		u = &auth.User{ID: guestID(e.scope.World, cred.ClientID), Profile: guestProfile(cred.DisplayName), Guest: true}
	default:
		return nil, op.Errorf(op.CodeMissingToken, "authenticate needs a token or a client_id")
	}
	return u, nil
}

// NewClient binds an authenticated user to sink. The client receives no
// events until Start.
func (e *Engine) NewClient(u *auth.User, sink Sink) *Client {
	return &Client{eng: e, user: u, sink: sink}
}

// Start attaches the client to the edge for its world's events and
// enforces the per-user connection limit, replacing the user's oldest
// connections. A client of a world closed meanwhile is told so at once.
func (c *Client) Start() {
	e := c.eng
	u := c.user
	e.edge.Attach(e.scope.World, c.sink)
	var replaced []*Client
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		c.sink.WorldClosed()
		return
	}
	e.conns++
	list := append(e.perUser[u.ID], c)
	if max := e.settings().cfg.MaxConnsPerUser; max > 0 && len(list) > max {
		replaced = append(replaced, list[:len(list)-max]...)
		list = append([]*Client(nil), list[len(list)-max:]...)
	}
	e.perUser[u.ID] = list
	e.mu.Unlock()
	for _, old := range replaced {
		old.sink.Replaced()
	}
}

func guestID(world, clientID string) string {
	h := sha256.Sum256([]byte(world + "\x00" + clientID))
	return "guest-" + hex.EncodeToString(h[:10])
}

// maxGuestName bounds a guest's display name (bytes); a longer one is
// dropped.
const maxGuestName = 100

// guestProfile is a guest's profile: {"display_name": name} when the guest
// proposed a name of at most maxGuestName bytes, else empty.
func guestProfile(name *string) op.Profile {
	if name == nil || len(*name) > maxGuestName {
		return op.Profile{}
	}
	b, err := json.Marshal(struct {
		DisplayName string `json:"display_name"`
	}{*name})
	if err != nil { // cannot happen: a struct of a string
		return op.Profile{}
	}
	p, err := op.ParseProfile(b, 0)
	if err != nil { // cannot happen: an object
		return op.Profile{}
	}
	return p
}

// internal maps a non-protocol error to server.error, logging it once here;
// a store that cannot be reached is server.unavailable (503): the write was
// not acknowledged and nothing was announced, so the client may retry.
func (e *Engine) internal(ctx context.Context, what op.Kind, err error) *op.Error {
	var oe *op.Error
	if errors.As(err, &oe) {
		return oe
	}
	if errors.Is(err, store.ErrUnavailable) {
		e.log.WarnContext(ctx, "store unavailable", "op", what, "err", err)
		return op.Errorf(op.CodeUnavailable, "storage is unavailable, try again later")
	}
	e.log.ErrorContext(ctx, "operation failed", "op", what, "err", err)
	return op.Errorf(op.CodeInternal, "internal error")
}

// roomView is what an operation needs to know of a room for one user.
type roomView struct {
	id          string
	perms       auth.Perm
	showViewers bool
	invites     bool
	reactions   []string
}

// view returns u's view of room, or room.unknown.
func (e *Engine) view(u *auth.User, roomID string) (roomView, *op.Error) {
	v := roomView{id: roomID}
	policy := e.settings().policy
	inWorld := false
	ok := e.catalog.View(roomID, func(r *catalog.Room) {
		inWorld = e.scope.Has(r)
		v.perms = policy.Room(u, r.ID, r.TraitGrants)
		v.showViewers, v.invites = r.ShowViewers, r.AnonymousInvites
		v.reactions = e.reactionsOf(r)
	})
	if !ok || !inWorld {
		return roomView{id: roomID}, op.Errorf(op.CodeRoomUnknown, "unknown room %q", roomID)
	}
	return v, nil
}
