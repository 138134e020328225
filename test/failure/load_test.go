package failure

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

// key is what a user holds one reaction to: a resource, or a comment on it.
type key struct{ resource, comment string }

func (k key) String() string {
	if k.comment == "" {
		return k.resource
	}
	return k.resource + "#" + k.comment
}

// keyOf is the key of every writer's write seq. Writers move on to a new
// resource every keyWrites writes, alternating between the resource itself
// and a comment on it, and never come back: a key's final reaction thus
// tells of the writes made around one moment of the test — before a
// failure, during it, or after it — which later writes cannot mask. All
// writers write the same keys at about the same time (they share the
// pace), so the owner serialises and batches writes of many users to the
// same resource.
func keyOf(seq int) key {
	k := key{resource: fmt.Sprintf("talk-%d", seq/keyWrites)}
	if seq%2 == 1 {
		k.comment = "q-1"
	}
	return k
}

// keyWrites is how many writes a writer makes per resource: three to the
// resource, three to its comment.
const keyWrites = 6

// outcome is what a client learned of one write.
type outcome int

const (
	pending outcome = iota
	acked           // a success reply
	failed          // an error reply (code says which)
	lost            // no reply: the connection died while the write was in flight
)

func (o outcome) String() string {
	return [...]string{"pending", "acked", "failed", "lost"}[o]
}

// write is one resource.reaction.set (value "v<seq>", unique per user) or
// .delete (value "") of one writer, in the order the writer sent them.
type write struct {
	seq     int
	key     key
	value   string // "" for a delete: no reaction afterwards
	node    string // the node the write was sent to
	sent    time.Time
	outcome outcome
	code    string // error code of a failed write
}

func (w write) String() string {
	op := "set " + w.value
	if w.value == "" {
		op = "delete"
	}
	s := fmt.Sprintf("#%d %s %s via %s at %s: %s", w.seq, op, w.key, w.node, w.sent.Format("15:04:05.000"), w.outcome)
	if w.code != "" {
		s += " " + w.code
	}
	return s
}

// writer is one user on one websocket connection writing resource reactions
// in room at a steady rate (one write in flight at a time). When its
// connection dies it reconnects to the next node of its list that answers,
// as a client behind a load balancer would, and carries on.
type writer struct {
	uid    string
	nodes  []*proc // nodes[0] first, then round robin
	period time.Duration

	mu         sync.Mutex
	writes     []write
	node       int // index in nodes of the current connection
	reconnects int
	problem    error // something that must not happen (no reply on a live connection, a malformed reply)

	ws      *websocket.Conn
	replies chan json.RawMessage
	dead    chan struct{}
	nextID  int
}

func newWriter(uid string, period time.Duration, nodes ...*proc) *writer {
	return &writer{uid: uid, nodes: nodes, period: period}
}

// run writes until stop is closed, then finishes its write in flight and
// returns.
func (w *writer) run(t *testing.T, stop <-chan struct{}) {
	tick := time.NewTicker(w.period)
	defer tick.Stop()
	defer w.close()
	for seq := 0; ; seq++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if w.ws == nil && !w.connect(t) {
			continue // every node refused; the next tick tries again
		}
		wr := write{seq: seq, key: keyOf(seq)}
		if seq%5 != 4 {
			wr.value = fmt.Sprintf("v%d", seq)
		}
		if !w.do(wr) {
			return
		}
	}
}

// connect dials the current node, then the others in turn, and
// authenticates; it reports whether a connection is up.
func (w *writer) connect(t *testing.T) bool {
	for range w.nodes {
		p := w.nodes[w.node]
		if w.dial(t, p) {
			return true
		}
		w.mu.Lock()
		w.node = (w.node + 1) % len(w.nodes)
		w.mu.Unlock()
	}
	return false
}

func (w *writer) dial(t *testing.T, p *proc) bool {
	d := websocket.Dialer{HandshakeTimeout: 2 * time.Second}
	ws, _, err := d.Dial(p.URL(), nil)
	if err != nil {
		return false
	}
	w.ws, w.replies, w.dead = ws, make(chan json.RawMessage, 4), make(chan struct{})
	go read(ws, w.replies, w.dead)
	auth, _ := json.Marshal([]any{"authenticate", map[string]any{"token": nodetest.Token(t, w.uid, nil, map[string]any{"display_name": w.uid})}})
	if ws.WriteMessage(websocket.TextMessage, auth) != nil {
		w.close()
		return false
	}
	select {
	case f := <-w.replies:
		var fr []json.RawMessage
		if json.Unmarshal(f, &fr) == nil && len(fr) > 0 && string(fr[0]) == `"authenticated"` {
			return true
		}
		w.setProblem(fmt.Errorf("authenticate on %s: %s", p.Name, f))
	case <-w.dead:
	case <-time.After(5 * time.Second):
		w.setProblem(fmt.Errorf("no reply to authenticate on %s", p.Name))
	}
	w.close()
	return false
}

// read hands every reply (success, error, authenticated) to replies until
// the connection dies; pushes are not replies.
func read(ws *websocket.Conn, replies chan<- json.RawMessage, dead chan<- struct{}) {
	defer close(dead)
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if strings.HasPrefix(string(b), `["success"`) || strings.HasPrefix(string(b), `["error"`) || strings.HasPrefix(string(b), `["authenticated"`) {
			select {
			case replies <- json.RawMessage(b):
			default: // only one request is ever in flight: cannot fill up
			}
		}
	}
}

func (w *writer) close() {
	if w.ws != nil {
		_ = w.ws.Close()
		<-w.dead
		w.ws = nil
	}
}

// do sends wr and records its outcome; it returns false after a problem
// that ends the writer.
func (w *writer) do(wr write) bool {
	w.nextID++
	id := w.nextID
	action := "resource.reaction.set"
	body := map[string]any{"room": room, "resource": wr.key.resource, "comment": wr.key.comment}
	if wr.value == "" {
		action = "resource.reaction.delete"
	} else {
		body["reaction"] = wr.value
	}
	frame, _ := json.Marshal([]any{action, id, body})
	w.mu.Lock()
	wr.node, wr.sent = w.nodes[w.node].Name, time.Now()
	w.writes = append(w.writes, wr)
	i := len(w.writes) - 1
	w.mu.Unlock()

	if err := w.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		// The frame may or may not have left: as good as in flight.
		w.died(i)
		return true
	}
	select {
	case f := <-w.replies:
		var fr []json.RawMessage
		var gotID int
		if json.Unmarshal(f, &fr) != nil || len(fr) != 3 || json.Unmarshal(fr[1], &gotID) != nil || gotID != id {
			w.setProblem(fmt.Errorf("reply %s to write %d (id %d)", f, wr.seq, id))
			return false
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if string(fr[0]) == `"success"` {
			w.writes[i].outcome = acked
			return true
		}
		var e struct {
			Code string `json:"code"`
		}
		_ = json.Unmarshal(fr[2], &e)
		w.writes[i].outcome, w.writes[i].code = failed, e.Code
		return true
	case <-w.dead:
		w.died(i)
		return true
	case <-time.After(10 * time.Second):
		// Far beyond the forward and store timeouts: the node must have
		// answered by now.
		w.setProblem(fmt.Errorf("no reply to %s on a live connection", w.writes[i]))
		return false
	}
}

// died records write i as lost with its connection and moves to the next
// node.
func (w *writer) died(i int) {
	w.close()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes[i].outcome = lost
	w.node = (w.node + 1) % len(w.nodes)
	w.reconnects++
}

func (w *writer) setProblem(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.problem == nil {
		w.problem = err
	}
}

// count returns how many writes sent at or after since had outcome o.
func (w *writer) count(o outcome, since time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, wr := range w.writes {
		if wr.outcome == o && !wr.sent.Before(since) {
			n++
		}
	}
	return n
}

func (w *writer) reconnectCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reconnects
}

// onNode returns the name of the node the writer is connected to, or last
// tried.
func (w *writer) onNode() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nodes[w.node].Name
}

// load is a set of writers running until stopped.
type load struct {
	writers []*writer
	stop    chan struct{}
	wg      sync.WaitGroup
}

func startLoad(t *testing.T, ws ...*writer) *load {
	l := &load{writers: ws, stop: make(chan struct{})}
	for _, w := range ws {
		l.wg.Add(1)
		go func() { defer l.wg.Done(); w.run(t, l.stop) }()
	}
	t.Cleanup(l.halt)
	return l
}

func (l *load) halt() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// waitEach waits until every writer satisfies cond.
func (l *load) waitEach(t *testing.T, timeout time.Duration, what string, cond func(*writer) bool) {
	t.Helper()
	testkit.Eventually(t, timeout, what, func() bool {
		for _, w := range l.writers {
			w.mu.Lock()
			p := w.problem
			w.mu.Unlock()
			if p != nil {
				t.Fatalf("writer %s: %v", w.uid, p)
			}
			if !cond(w) {
				return false
			}
		}
		return true
	})
}
