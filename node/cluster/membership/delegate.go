package membership

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/cluster/lograte"
)

// delegate adapts the Membership to memberlist.Delegate.
type delegate Membership

func (d *delegate) NodeMeta(limit int) []byte {
	if len(d.meta) > limit {
		return nil
	}
	return d.meta
}

func (d *delegate) NotifyMsg(msg []byte) {
	if len(msg) > 0 {
		d.d.NotifyMsg(bytes.Clone(msg))
	}
}

func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.queue.GetBroadcasts(overhead, limit)
}

func (d *delegate) LocalState(bool) []byte { return d.d.LocalState() }

func (d *delegate) MergeRemoteState(buf []byte, _ bool) {
	if len(buf) > 0 {
		d.d.MergeRemoteState(bytes.Clone(buf))
	}
}

// events adapts the Membership to memberlist's event and conflict
// delegates. memberlist calls them with its node lock held: they only
// update the member map and signal.
type events Membership

func (e *events) NotifyJoin(n *memberlist.Node) { e.set(n, "join") }

func (e *events) NotifyUpdate(n *memberlist.Node) { e.set(n, "update") }

func (e *events) NotifyLeave(n *memberlist.Node) {
	e.mu.Lock()
	delete(e.members, n.Name)
	// memberlist does not tell a death from a leave here (the node's state
	// field is not updated before this call), so both are retried: a node
	// that left refuses the attempt, one behind a healed partition rejoins.
	if n.Name != e.name {
		e.dead[n.Name] = deadMember{addr: n.Address(), since: time.Now()}
	}
	e.mu.Unlock()
	e.mEvents.WithLabelValues("leave").Inc()
	e.signal()
}

func (e *events) set(n *memberlist.Node, event string) {
	e.mu.Lock()
	e.members[n.Name] = Member{Name: n.Name, Addr: n.Address(), Meta: bytes.Clone(n.Meta)}
	delete(e.dead, n.Name)
	e.mu.Unlock()
	e.mEvents.WithLabelValues(event).Inc()
	e.signal()
}

func (e *events) signal() {
	select {
	case e.changes <- struct{}{}:
	default:
	}
}

func (e *events) NotifyConflict(existing, other *memberlist.Node) {
	e.log.Error("another node uses this node's name", "name", existing.Name,
		"existing", existing.Address(), "other", other.Address())
}

// broadcast is one application message in the transmit queue.
type broadcast []byte

func (b broadcast) Invalidates(memberlist.Broadcast) bool { return false }
func (b broadcast) Message() []byte                       { return b }
func (b broadcast) Finished()                             {}

// logEvery is how often one kind of gossip warning or error is logged:
// strangers can provoke them with every packet they send.
const logEvery = 10 * time.Second

// logWriter turns memberlist's "[LEVEL] memberlist: ..." lines into slog
// records of the matching level, counting warnings and errors and
// writing at most one of each kind (its first words) per logEvery.
type logWriter struct {
	l          *slog.Logger
	limit      *lograte.Limiter
	lines      *prometheus.CounterVec
	suppressed prometheus.Counter
}

func newLogWriter(l *slog.Logger) *logWriter {
	return &logWriter{l: l, limit: lograte.New(logEvery),
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "roomring_gossip_problems_total", Help: "Warnings and errors of the gossip layer (undecryptable packets, broken streams, ...), by level, logged or not.",
		}, []string{"level"}),
		suppressed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_gossip_log_suppressed_total", Help: "Gossip warnings and errors not logged because one of their kind was logged less than 10s before.",
		}),
	}
}

func (w *logWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level := slog.LevelInfo
	if i := strings.IndexByte(line, ']'); strings.HasPrefix(line, "[") && i > 0 {
		switch line[1:i] {
		case "DEBUG":
			level = slog.LevelDebug
		case "WARN":
			level = slog.LevelWarn
		case "ERR":
			level = slog.LevelError
		}
		line = strings.TrimSpace(line[i+1:])
	}
	args := []any{"component", "gossip"}
	if level >= slog.LevelWarn {
		w.lines.WithLabelValues(strings.ToLower(level.String())).Inc()
		ok, held := w.limit.Allow(lineKind(line))
		if !ok {
			w.suppressed.Inc()
			return len(p), nil
		}
		if held > 0 {
			args = append(args, "suppressed", held)
		}
	}
	w.l.Log(context.Background(), level, line, args...)
	return len(p), nil
}

// lineKind is what a memberlist line is about: its first three words after
// the "memberlist:" prefix (the rest names addresses and errors).
func lineKind(line string) string {
	words := strings.Fields(strings.TrimPrefix(line, "memberlist:"))
	words = words[:min(3, len(words))]
	return strings.TrimSuffix(strings.Join(words, " "), ":")
}
