package loadgen

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/roomring/roomring/node/wsframe"
)

func TestHistogramBucketsKeepValuesWithinOneSixtyFourth(t *testing.T) {
	for _, v := range []uint64{0, 1, 63, 64, 65, 127, 128, 1000, 4095, 123_456, 9_999_999, 1 << 36} {
		got := bucketValue(bucketOf(v))
		if diff := math.Abs(float64(got) - float64(v)); diff > float64(v)/64+0.5 {
			t.Errorf("value %d lands in bucket %d worth %d", v, bucketOf(v), got)
		}
	}
	if b := bucketOf(1 << 60); b != histBuckets-1 {
		t.Errorf("a huge value lands in bucket %d, want the last", b)
	}
}

func TestHistogramQuantilesSwapAndMerge(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	var d Dist
	d.Add(h.Swap())
	if d.Count() != 1000 {
		t.Fatalf("count %d", d.Count())
	}
	near := func(got, want time.Duration) bool {
		return math.Abs(float64(got-want)) <= float64(want)/64+float64(time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 501 * time.Millisecond, 0.99: 991 * time.Millisecond} {
		if got := d.Quantile(q); !near(got, want) {
			t.Errorf("q%.2f = %v, want %v", q, got, want)
		}
	}
	if got := d.Max(); !near(got, time.Second) {
		t.Errorf("max %v", got)
	}
	if s := h.Swap(); len(s) != 0 {
		t.Errorf("a second swap returned %v", s)
	}
	var other Dist
	other.Add(HistSnapshot{{uint64(bucketOf(5_000_000)), 1000}}) // 1000 × 5 s
	d.Merge(&other)
	if d.Count() != 2000 || !near(d.Quantile(0.75), 5*time.Second) {
		t.Errorf("merged: count %d q0.75 %v", d.Count(), d.Quantile(0.75))
	}
}

func TestParsers(t *testing.T) {
	msg := []byte(`["room.schedule",{"room":"r","schedule_data":{"title":"lg:1700000000123456789"}}]`)
	if ts, ok := findStamp(msg); !ok || ts != 1700000000123456789 {
		t.Errorf("findStamp = %d, %v", ts, ok)
	}
	if _, ok := findStamp([]byte(`["room.schedule",{"schedule_data":{"title":"Keynote"}}]`)); ok {
		t.Error("a title without a stamp has one")
	}
	kind, rest := vlKind([]byte(`["error",17,{"code":"protocol.rate_limited","message":"x"}]`))
	if string(kind) != "error" {
		t.Fatalf("kind %q", kind)
	}
	if id, ok := vlID(rest); !ok || id != 17 {
		t.Errorf("id %d %v", id, ok)
	}
	if c := stringAfter(rest, `"code":"`); c != "protocol.rate_limited" {
		t.Errorf("code %q", c)
	}
	if _, ok := vlID([]byte(`,{"x":1}]`)); ok {
		t.Error("an id in a push without one")
	}
}

func TestGroupsSpreadAcrossWorkersAndGaps(t *testing.T) {
	ms := int64(time.Millisecond)
	t0 := time.Now().UnixNano()
	// Two workers see the same broadcast (same payload hash) of room r:
	// A first at t0, then at t0+10ms; B at t0+4ms and t0+30ms (twice).
	var a, b groupTracker
	a.add("r", 7, t0)
	a.add("r", 7, t0+10*ms)
	b.add("r", 7, t0+4*ms)
	b.add("r", 7, t0+30*ms)
	b.add("r", 7, t0+30*ms)
	// The next broadcast, a second later, with other counts.
	a.add("r", 8, t0+1000*ms)
	b.add("r", 8, t0+1002*ms)
	var m groupMerger
	for _, g := range append(a.take(t0+2000*ms, true), b.take(t0+2000*ms, true)...) {
		m.add(g)
	}
	var spread, gaps Dist
	m.flush(0, 0, time.Unix(0, t0), time.Time{}, &spread, &gaps)
	if spread.Count() != 7 {
		t.Fatalf("spread has %d receipts, want 7", spread.Count())
	}
	// Receipts after the first: 0, 4, 10, 30, 30 ms; then 0, 2 ms.
	if got := spread.Max(); got != 30*time.Millisecond+500*time.Microsecond && got.Round(time.Millisecond) != 30*time.Millisecond {
		t.Errorf("max spread %v, want 30ms", got)
	}
	if got := spread.Quantile(0.5).Round(time.Millisecond); got != 4*time.Millisecond {
		t.Errorf("median spread %v, want 4ms", got)
	}
	if gaps.Count() != 1 || math.Abs(float64(gaps.Max()-time.Second)) > float64(time.Second)/64 {
		t.Errorf("gaps: %d, max %v; want one of 1s", gaps.Count(), gaps.Max())
	}
}

func TestListsAndWorkerArgsRoundTrip(t *testing.T) {
	var l List
	if err := l.Set("a,lg-{1..3},b"); err != nil || !reflect.DeepEqual([]string(l), []string{"a", "lg-1", "lg-2", "lg-3", "b"}) {
		t.Errorf("List = %v, %v", l, err)
	}
	var ips IPList
	if err := ips.Set("127.0.0.2-127.0.0.4,127.0.1.1"); err != nil || ips.String() != "127.0.0.2,127.0.0.3,127.0.0.4,127.0.1.1" {
		t.Errorf("IPList = %v, %v", ips.String(), err)
	}
	if err := new(IPList).Set("127.0.0.4-127.0.1.5"); err == nil {
		t.Error("a range over two /24s was accepted")
	}

	var cfg Config
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	if err := fs.Parse([]string{"--target=127.0.0.1:1,127.0.0.1:2", "--conns=77", "--procs=3", "--src=127.0.0.2-127.0.0.3",
		"--rooms=lg-{1..2}", "--big-share=0.5", "--broadcast-rate=12", "--jwt-secret=s3cret-0123456789", "--server-pid=42"}); err != nil {
		t.Fatal(err)
	}
	cfg.Complete()
	var back Config
	fs2 := flag.NewFlagSet("y", flag.ContinueOnError)
	back.RegisterFlags(fs2)
	if err := fs2.Parse(cfg.workerArgs(2)); err != nil {
		t.Fatal(err)
	}
	want := cfg
	want.WorkerIndex, want.ServerPIDs, want.JSONOut, want.JWTSecret = 2, nil, "", ""
	if !reflect.DeepEqual(back, want) {
		t.Errorf("worker config differs:\n got %+v\nwant %+v", back, want)
	}
}

// serverFrame is an unmasked server frame.
func serverFrame(fin bool, op byte, payload []byte) []byte {
	return wsframe.AppendFrame(nil, wsframe.Header{Fin: fin, Op: op}, payload)
}

// readClientFrame reads one masked client frame and unmasks it.
func readClientFrame(t *testing.T, r io.Reader) (byte, []byte) {
	t.Helper()
	b := make([]byte, 2, wsframe.MaxHeaderLen)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	h, _, need := wsframe.ParseHeader(b)
	if !h.Masked {
		t.Fatal("client frame not masked")
	}
	if need > 0 {
		b = b[:need]
		if _, err := io.ReadFull(r, b[2:]); err != nil {
			t.Fatal(err)
		}
		h, _, _ = wsframe.ParseHeader(b)
	}
	p := make([]byte, h.Len)
	if _, err := io.ReadFull(r, p); err != nil {
		t.Fatal(err)
	}
	wsframe.Mask(p, h.Key, 0)
	return h.Op, p
}

func TestWebsocketFramesFragmentsPingsAndBufferReuse(t *testing.T) {
	cli, srv := net.Pipe()
	defer cli.Close()
	defer srv.Close()
	ws := &wsConn{c: cli, buf: make([]byte, readBufSmall)}
	big := bytes.Repeat([]byte("x"), 3*readBufSmall)
	go func() {
		var out []byte
		out = append(out, serverFrame(true, wsframe.OpText, []byte(`["a"]`))...)
		out = append(out, serverFrame(true, wsframe.OpPing, []byte("hi"))...)
		out = append(out, serverFrame(false, wsframe.OpText, []byte(`["frag`))...)
		out = append(out, serverFrame(true, wsframe.OpContinuation, []byte(`mented"]`))...)
		out = append(out, serverFrame(true, wsframe.OpText, big)...)
		out = append(out, serverFrame(true, wsframe.OpText, []byte(`["after"]`))...)
		_, _ = srv.Write(out)
	}()
	pongs := make(chan []byte, 1)
	go func() {
		op, p := readClientFrame(t, srv)
		if op != wsframe.OpPong {
			t.Errorf("client answered a ping with opcode %d", op)
		}
		pongs <- p
	}()
	want := [][]byte{[]byte(`["a"]`), []byte(`["fragmented"]`), big, []byte(`["after"]`)}
	for i, w := range want {
		got, err := ws.readMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(got, w) {
			t.Fatalf("message %d = %.40q, want %.40q", i, got, w)
		}
	}
	if p := <-pongs; string(p) != "hi" {
		t.Errorf("pong payload %q", p)
	}
	if len(ws.buf) != readBufSmall && ws.r != ws.w {
		t.Errorf("read buffer still %d bytes after the large message was read", len(ws.buf))
	}
	go func() { _, _ = srv.Write(serverFrame(true, wsframe.OpText, []byte(`["next"]`))) }()
	if _, err := ws.readMessage(); err != nil {
		t.Fatal(err)
	}
	if len(ws.buf) != readBufSmall {
		t.Errorf("read buffer is %d bytes, want it back to %d", len(ws.buf), readBufSmall)
	}
	go func() {
		if err := ws.writeText([]byte(`["room.react",1,{}]`)); err != nil {
			t.Error(err)
		}
	}()
	if op, p := readClientFrame(t, srv); op != wsframe.OpText || string(p) != `["room.react",1,{}]` {
		t.Errorf("client frame %d %q", op, p)
	}
}

func TestReadProc(t *testing.T) {
	st, err := readProc(os.Getpid())
	if err != nil || st.RSS <= 0 || st.Threads < 1 {
		t.Fatalf("own process: %+v, %v", st, err)
	}
	// An exited child not yet waited for (a zombie) has no resources to
	// report; a reaped one has no /proc entry.
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err == nil && bytes.Contains(b, []byte(") Z ")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("child %d never became a zombie: %q %v", pid, b, err)
		}
		runtime.Gosched()
	}
	if st, err := readProc(pid); err == nil {
		t.Errorf("a zombie reads as %+v", st)
	}
	_ = cmd.Wait()
	if st, err := readProc(pid); err == nil {
		t.Errorf("a reaped process reads as %+v", st)
	}
}

// TestRecoveryAfterDrop: the first drop is the earliest over workers, and
// recovery is measured to the first broadcast after it.
func TestRecoveryAfterDrop(t *testing.T) {
	a, b := Counters{FirstDrop: 500}, Counters{}
	if got := a.add(b).FirstDrop; got != 500 {
		t.Errorf("earliest of 500 and none = %d", got)
	}
	if got := b.add(Counters{FirstDrop: 700}).add(a).FirstDrop; got != 500 {
		t.Errorf("earliest of 700 and 500 = %d", got)
	}
	if got := a.sub(Counters{FirstDrop: 500}).FirstDrop; got != 500 {
		t.Errorf("a difference keeps the first drop: %d", got)
	}
	var m groupMerger
	var spread, gaps Dist
	for _, first := range []int64{100, 1100, 2100, 4300, 5300} {
		m.add(Group{Room: "r", Hash: uint64(first), First: first * int64(time.Millisecond)})
	}
	m.flush(0, 0, time.Time{}, time.Time{}, &spread, &gaps)
	if got := m.after(2500 * int64(time.Millisecond)); got != 4300*int64(time.Millisecond) {
		t.Errorf("first broadcast after 2.5 s = %v", time.Duration(got))
	}
	if got := m.after(6000 * int64(time.Millisecond)); got != 0 {
		t.Errorf("none after the last: %d", got)
	}
}
