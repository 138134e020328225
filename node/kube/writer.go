package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/roomring/roomring/node/manifest"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/op"
)

// Writer is the engine's RoomWriter of a node under Kubernetes. Each action
// writes the Room resources first — with optimistic concurrency, retried on
// conflicts — then applies the written specs to the node's catalog, and
// returns what the API server stored: the websocket's reply is the
// configuration kubectl shows. When several Rooms claim a room id, the one
// the pool serves (v1alpha1.Room.Precedes) is the one changed.
type Writer struct {
	c       client.Client
	cfg     Config
	catalog *catalog.Catalog
	log     *slog.Logger
}

// +kubebuilder:rbac:groups=roomring.dev,resources=rooms,verbs=get;list;create;update;delete

// NewWriter returns the writer of the Rooms in cfg.Namespace through c,
// applying them to cat.
func NewWriter(c client.Client, cfg Config, cat *catalog.Catalog, log *slog.Logger) *Writer {
	return &Writer{c: c, cfg: cfg, catalog: cat, log: log}
}

// claims lists the live Rooms claiming id in precedence order.
func (w *Writer) claims(ctx context.Context, id string) ([]*v1alpha1.Room, error) {
	var list v1alpha1.RoomList
	if err := w.c.List(ctx, &list, client.InNamespace(w.cfg.Namespace)); err != nil {
		return nil, fmt.Errorf("list Rooms: %w", err)
	}
	var out []*v1alpha1.Room
	for i := range list.Items {
		if r := &list.Items[i]; r.RoomID() == id && r.DeletionTimestamp.IsZero() {
			out = append(out, r)
		}
	}
	v1alpha1.SortClaims(out)
	return out, nil
}

// served returns the Room the pool serves for id, or room.unknown.
func (w *Writer) served(ctx context.Context, id string) (*v1alpha1.Room, error) {
	all, err := w.claims(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, op.Errorf(op.CodeRoomUnknown, "unknown room %q", id)
	}
	return all[0], nil
}

// specOf converts r to a spec that keeps the Room's spec.id.
func specOf(r *catalog.Room, cr *v1alpha1.Room) (v1alpha1.RoomSpec, error) {
	s, oerr := manifest.ToSpec(r)
	if oerr != nil {
		return s, oerr
	}
	s.ID = cr.Spec.ID
	return s, nil
}

// apply makes the written Rooms' specs the node's configuration.
func (w *Writer) apply(ctx context.Context, crs ...*v1alpha1.Room) ([]*catalog.Room, error) {
	rooms := make([]*catalog.Room, 0, len(crs))
	for _, cr := range crs {
		r, err := manifest.FromSpec(cr.RoomID(), &cr.Spec)
		if err != nil {
			return nil, fmt.Errorf("Room %s/%s as written: %w", cr.Namespace, cr.Name, err)
		}
		rooms = append(rooms, r)
	}
	if err := w.catalog.Upsert(ctx, rooms...); err != nil {
		return nil, err
	}
	out := make([]*catalog.Room, len(rooms))
	for i, r := range rooms {
		out[i] = w.catalog.Get(r.ID)
		if out[i] == nil {
			out[i] = r
		}
	}
	return out, nil
}

// apiError turns the API server's refusal of a Room into config.invalid
// with its message; other errors stay.
func apiError(err error) error {
	if apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
		return op.Errorf(op.CodeConfigInvalid, "%s", err.Error())
	}
	return err
}

func (w *Writer) nameTaken(s catalog.Scope, name, except string) bool {
	for _, r := range w.catalog.ListIn(s) {
		if r.ID != except && strings.EqualFold(r.Name, name) {
			return true
		}
	}
	return false
}

// Create implements engine.RoomWriter: a new Room named after the room's
// fresh id, after every other room in order.
func (w *Writer) Create(ctx context.Context, req catalog.CreateRequest) (*catalog.Room, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	if w.nameTaken(req.Scope, req.Name, "") {
		return nil, op.Errorf(op.CodeNameTaken, "This room name is already taken.")
	}
	maxPrio := 0
	for _, r := range w.catalog.ListIn(req.Scope) {
		maxPrio = max(maxPrio, r.SortingPriority)
	}
	id := string(uuid.NewUUID())
	world := req.Scope.World
	if req.Scope.Builtin {
		world = ""
	}
	r := &catalog.Room{ID: id, World: world, Name: req.Name, Description: req.Description, ModuleConfig: req.Modules,
		SortingPriority: maxPrio + 1, ShowViewers: true, AnonymousInvites: true}
	spec, oerr := manifest.ToSpec(r)
	if oerr != nil {
		return nil, oerr
	}
	if _, err := manifest.FromSpec(id, &spec); err != nil {
		return nil, err
	}
	cr := &v1alpha1.Room{ObjectMeta: metav1.ObjectMeta{Namespace: w.cfg.Namespace, Name: id}, Spec: spec}
	if err := w.c.Create(ctx, cr); err != nil {
		return nil, apiError(fmt.Errorf("create Room: %w", err))
	}
	w.log.Info("Room created for room.create", "namespace", cr.Namespace, "name", cr.Name)
	out, err := w.apply(ctx, cr)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// update changes the served Room of id with mut (given the room as the
// Room holds it, returning the new room), retrying on conflicts.
func (w *Writer) update(ctx context.Context, id string, mut func(cur *catalog.Room) (*catalog.Room, error)) (*v1alpha1.Room, error) {
	var cr *v1alpha1.Room
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		if cr, err = w.served(ctx, id); err != nil {
			return err
		}
		cur, err := manifest.FromSpec(id, &cr.Spec)
		if err != nil {
			return op.Errorf(op.CodeConfigInvalid, "Room %s/%s is invalid: %v", cr.Namespace, cr.Name, err)
		}
		n, err := mut(cur)
		if err != nil {
			return err
		}
		if cr.Spec, err = specOf(n, cr); err != nil {
			return err
		}
		return w.c.Update(ctx, cr)
	})
	if err != nil {
		return nil, apiError(err)
	}
	return cr, nil
}

// Patch implements engine.RoomWriter.
func (w *Writer) Patch(ctx context.Context, id string, body map[string]json.RawMessage) (*catalog.Room, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	cr, err := w.update(ctx, id, func(cur *catalog.Room) (*catalog.Room, error) {
		n, perr := catalog.ApplyPatch(cur, body)
		if perr != nil {
			return nil, perr
		}
		if n.Name != cur.Name && w.nameTaken(catalog.Scope{World: cur.World}, n.Name, id) {
			return nil, op.Errorf(op.CodeNameTaken, "This room name is already taken.")
		}
		return n, nil
	})
	if err != nil {
		return nil, err
	}
	out, err := w.apply(ctx, cr)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// SetSchedule implements engine.RoomWriter.
func (w *Writer) SetSchedule(ctx context.Context, id string, data map[string]any) error {
	if err := catalog.ValidateSchedule(data); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	cr, err := w.update(ctx, id, func(cur *catalog.Room) (*catalog.Room, error) {
		n := cur.Clone()
		n.ScheduleData = data
		return n, nil
	})
	if err != nil {
		return err
	}
	_, err = w.apply(ctx, cr)
	return err
}

// Reorder implements engine.RoomWriter: the Rooms whose sorting priority
// changes are updated; rooms without a Room keep their place in the order
// but are not written.
func (w *Writer) Reorder(ctx context.Context, s catalog.Scope, ids []string) ([]*catalog.Room, error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	var written []*v1alpha1.Room
	for i, r := range catalog.Reordered(w.catalog.ListIn(s), ids) {
		prio := i + 1
		if r.SortingPriority == prio {
			continue
		}
		cr, err := w.update(ctx, r.ID, func(cur *catalog.Room) (*catalog.Room, error) {
			n := cur.Clone()
			n.SortingPriority = prio
			return n, nil
		})
		var oe *op.Error
		if errors.As(err, &oe) && oe.Code == op.CodeRoomUnknown {
			w.log.Warn("room.config.reorder: room without a Room left as is", "room", r.ID)
			continue
		}
		if err != nil {
			return nil, err
		}
		written = append(written, cr)
	}
	if len(written) > 0 {
		if _, err := w.apply(ctx, written...); err != nil {
			return nil, err
		}
	}
	return w.catalog.ListIn(s), nil
}

// Delete implements engine.RoomWriter: every Room claiming the id is
// deleted (else another would take the room over), then the room leaves
// the catalog. The Rooms are the truth, so they change first: in the other
// order the operator, seeing the room gone from the pool while its Room
// still lived, would rightly push it back, and its finalizer would close
// it again — the clients would see room.delete, room.create and room.delete.
// Between the two steps the operator's finalizer may close the room itself
// (its members get room.delete from that DELETE); the catalog then lacks
// it and Delete returns engine.ErrClosedMeanwhile, so nobody is told twice.
func (w *Writer) Delete(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	all, err := w.claims(ctx, id)
	if err != nil {
		return err
	}
	if len(all) == 0 && !w.catalog.Exists(id) {
		return op.Errorf(op.CodeRoomUnknown, "unknown room %q", id)
	}
	for _, cr := range all {
		if err := w.c.Delete(ctx, cr); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete Room %s/%s: %w", cr.Namespace, cr.Name, err)
		}
		w.log.Info("Room deleted for room.delete", "namespace", cr.Namespace, "name", cr.Name)
	}
	err = w.catalog.Delete(ctx, id)
	var oe *op.Error
	if errors.As(err, &oe) && oe.Code == op.CodeRoomUnknown && len(all) > 0 {
		return fmt.Errorf("room %q: %w", id, engine.ErrClosedMeanwhile)
	}
	return err
}
