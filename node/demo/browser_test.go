package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

// chromiumPath is Debian's chromium, which hack/setup-test-deps.sh installs.
const chromiumPath = "/usr/bin/chromium"

// waitTimeout bounds every wait for the page; the server broadcasts
// reactions about once a second, so conditions hold well within it.
const waitTimeout = 10 * time.Second

// TestDemoPage joins as a guest, enters rooms, reacts, and follows what
// other clients do: their reactions, a schedule change, viewers coming and
// going (in a moderator's tab), and a room's deletion.
//
// Long: one walk through the demo page in a real browser, click by click.
func TestDemoPage(t *testing.T) {
	requireChromium(t)
	n := nodetest.Start(t, nodetest.Config(t, ""))
	base := "http://" + n.Addr()
	br := startBrowser(t)

	moe := nodetest.Dial(t, n.URL())
	welcome := moe.Auth(map[string]any{"token": nodetest.Token(t, "moe", []string{"moderator"}, map[string]any{"display_name": "Moe"})})
	workshop := roomNamed(t, welcome, "Workshop A")

	ada := br.open(t, "ada", 1280, 800)
	ada.do(chromedp.Navigate(base + "/"))
	ada.join("Ada")
	ada.waitFor("the page to list room_1", `document.querySelector('#room-list button[data-room="room_1"]') !== null`)
	ada.enter("room_1")
	ada.waitFor("the schedule of world.config", `text("#schedule-title") === "Opening keynote"`)
	if got, want := ada.reactions(), []string{"👏", "❤️", "👍", "🤣", "😮"}; !slices.Equal(got, want) {
		t.Fatalf("reaction buttons in room_1 = %v, want %v", got, want)
	}
	// Guests hold the viewer role in dev mode, without room:viewers.
	ada.waitFor("the note that the viewer list is not available", `(() => {
		const note = document.getElementById("viewers-note");
		return !note.hidden && note.dataset.reason === "no-permission" && document.getElementById("viewer-list").hidden;
	})()`)

	// The server has Ada in room_1.
	var entered struct {
		Viewers []struct {
			ID      string         `json:"id"`
			Profile map[string]any `json:"profile"`
		} `json:"viewers"`
	}
	if err := json.Unmarshal(moe.Call("room.enter", map[string]any{"room": "room_1"}), &entered); err != nil {
		t.Fatal(err)
	}
	var adaID string
	for _, v := range entered.Viewers {
		if v.Profile["display_name"] == "Ada" {
			adaID = v.ID
		}
	}
	if adaID == "" {
		t.Fatalf("room_1's viewers %+v have no Ada: the page did not enter the room", entered.Viewers)
	}

	// Ada's 👏 comes back in the server's room.reaction, to her page and to Moe.
	ada.click(`#reaction-buttons .react[data-reaction="👏"]`)
	ada.waitFor("Ada's 👏 to be counted", countIs("👏", 1))
	moe.Wait(waitTimeout, "room.reaction with Ada's 👏", func(f nodetest.Frame) bool {
		var r struct {
			Room      string         `json:"room"`
			Reactions map[string]int `json:"reactions"`
		}
		return f.Kind() == "room.reaction" && json.Unmarshal(f[1], &r) == nil && r.Room == "room_1" && r.Reactions["👏"] == 1
	})
	// Moe's reaction adds to the page's count.
	moe.Call("room.react", map[string]any{"room": "room_1", "reaction": "👏"})
	ada.waitFor("Moe's 👏 to add to the count", countIs("👏", 2))

	moe.Call("room.schedule", map[string]any{"room": "room_1", "schedule_data": map[string]any{"title": "Closing panel", "session": 7}})
	ada.waitFor("the schedule update", `text("#schedule-title") === "Closing panel" && text("#schedule-session") === "Session 7"`)

	// Mia, a moderator signed in with a token, sees who is in room_1, live.
	mia := br.open(t, "mia", 1280, 800)
	mia.do(chromedp.Navigate(base + "/"))
	mia.do(chromedp.Click(chromedp.CSS("#token-details summary")),
		chromedp.SetValue(chromedp.ID("token"), nodetest.Token(t, "mia", []string{"moderator"}, map[string]any{"display_name": "Mia"})),
		chromedp.Click(chromedp.ID("join-button")))
	mia.waitFor("Mia to be connected", `document.getElementById("conn").dataset.state === "online"`)
	mia.enter("room_1")
	mia.waitFor("the viewer list of room_1", viewersAre(adaID, "mia", "moe"))
	mia.waitFor("the viewer count", `text("#viewer-count") === "3"`)

	// Entering Workshop A leaves room_1, and offers the workshop's reactions only.
	ada.enter(workshop)
	ada.waitFor("the room button to keep the focus", fmt.Sprintf(`(() => {
		const b = document.activeElement;
		return b && b.dataset.room === %s && b.getAttribute("aria-current") === "true";
	})()`, jsString(workshop)))
	mia.waitFor("Ada to leave Mia's list", viewersAre("mia", "moe"))
	if got, want := ada.reactions(), []string{"👏", "👍", "😮"}; !slices.Equal(got, want) {
		t.Fatalf("reaction buttons in Workshop A = %v, want %v", got, want)
	}
	ada.waitFor("fresh counts in the new room", countIs("👏", 0))
	// Workshop A makes everyone a participant: the guest sees its viewer list.
	ada.waitFor("Ada's own viewer list in Workshop A", viewersAre(adaID))
	ada.enter("room_1")
	mia.waitFor("Ada to come back to Mia's list", viewersAre(adaID, "mia", "moe"))
	moe.Close()
	mia.waitFor("Moe to leave Mia's list", viewersAre(adaID, "mia"))

	// An admin deletes room_1: the pages drop it and say so.
	admin := nodetest.Dial(t, n.URL())
	admin.Auth(map[string]any{"token": nodetest.Token(t, "root", []string{"admin"}, nil)})
	admin.Call("room.delete", map[string]any{"room": "room_1"})
	for _, p := range []*page{ada, mia} {
		p.waitFor("room_1 to be gone", `document.querySelector('#room-list button[data-room="room_1"]') === null &&
			document.getElementById("room-body").hidden && text("#notice").includes("Main Stage")`)
	}
	br.noExceptions()
}

// TestDemoPageReconnect stops the node under the page and starts it again on
// the same address: the page reconnects, authenticates as the same guest and
// enters its room again.
func TestDemoPageReconnect(t *testing.T) {
	requireChromium(t)
	dir := t.TempDir()
	n := nodetest.Start(t, nodetest.Config(t, dir))
	addr := n.Addr()
	br := startBrowser(t)

	ada := br.open(t, "ada", 1280, 800)
	ada.do(chromedp.Navigate("http://" + addr + "/"))
	ada.join("Ada")
	ada.enter("room_1")
	if ada.eval(`localStorage.getItem("roomring.client_id") || ""`) == "" {
		t.Fatal("the page keeps no client_id in localStorage")
	}

	n.Stop(t) // closes the page's socket with 1001 (going away)
	ada.waitFor("the page to notice", `document.getElementById("conn").dataset.state !== "online" &&
		document.getElementById("room-body").dataset.entered === "false"`)

	cfg := nodetest.Config(t, dir)
	cfg.Listen = addr
	n2 := nodetest.Start(t, cfg)
	ada.waitFor("the page to reconnect and enter room_1 again", `document.getElementById("conn").dataset.state === "online" &&
		document.getElementById("room-body").dataset.entered === "true" && document.getElementById("room-body").dataset.room === "room_1"`)

	moe := nodetest.Dial(t, n2.URL())
	moe.Auth(map[string]any{"token": nodetest.Token(t, "moe", []string{"moderator"}, nil)})
	var entered struct {
		Viewers []struct {
			Profile map[string]any `json:"profile"`
		} `json:"viewers"`
	}
	if err := json.Unmarshal(moe.Call("room.enter", map[string]any{"room": "room_1"}), &entered); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(entered.Viewers, func(v struct {
		Profile map[string]any `json:"profile"`
	}) bool {
		return v.Profile["display_name"] == "Ada"
	}) {
		t.Fatalf("room_1's viewers after the restart %+v have no Ada", entered.Viewers)
	}
	moe.Call("room.react", map[string]any{"room": "room_1", "reaction": "🤣"})
	ada.waitFor("a reaction after the reconnect", countIs("🤣", 1))
	br.noExceptions()
}

// TestDemoPageInvite follows an anonymous invite link at mobile width, and
// shows the server's error for an unknown invite.
func TestDemoPageInvite(t *testing.T) {
	requireChromium(t)
	n := nodetest.Start(t, nodetest.Config(t, ""))
	base := "http://" + n.Addr()
	br := startBrowser(t)

	moe := nodetest.Dial(t, n.URL())
	moe.Auth(map[string]any{"token": nodetest.Token(t, "moe", []string{"moderator"}, nil)})
	var link struct {
		URL string `json:"url"`
	}
	if err := json.Unmarshal(moe.Call("room.invite.anonymous.link", map[string]any{"room": "room_1"}), &link); err != nil {
		t.Fatal(err)
	}
	code := path.Base(link.URL)

	grace := br.open(t, "grace", 375, 740)
	grace.do(chromedp.Navigate(base + "/i/" + code))
	grace.waitFor("the redirect to venueless' invite route (default --invite-redirect), which the demo page serves", fmt.Sprintf(`location.pathname === "/standalone/room_1/anonymous" && location.hash === %s && !document.getElementById("invite-note").hidden`, jsString("#invite="+code)))
	grace.noOverflow()
	grace.join("Grace")
	// The invite admits to room_1 only, which the page enters by itself.
	grace.waitFor("the page to enter the invited room", `document.getElementById("room-body").dataset.entered === "true" &&
		document.getElementById("room-body").dataset.room === "room_1" && document.querySelectorAll("#room-list button").length === 1`)
	grace.noOverflow()
	grace.click(`#reaction-buttons .react[data-reaction="😮"]`)
	grace.waitFor("Grace's 😮 to be counted", countIs("😮", 1))

	eve := br.open(t, "eve", 375, 740)
	eve.do(chromedp.Navigate(base + "/?invite=nope42"))
	eve.join("Eve")
	eve.waitFor("the server's error and the form again", `text("#errors").includes("auth.denied") &&
		!document.getElementById("join").hidden && document.getElementById("conn").dataset.state === "offline"`)
	br.noExceptions()
}

// browser is one headless chromium with its own profile.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu         sync.Mutex
	exceptions []string
}

// requireChromium fails the test when chromium is not installed, or skips it
// when ROOMRING_SKIP_BROWSER=1. Tests call it before starting a node.
func requireChromium(t *testing.T) {
	t.Helper()
	if os.Getenv("ROOMRING_SKIP_BROWSER") == "1" {
		t.Skip("ROOMRING_SKIP_BROWSER=1: skipping the browser test")
	}
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Fatalf("the browser test needs chromium at %s (%v): run hack/setup-test-deps.sh, or set ROOMRING_SKIP_BROWSER=1 to skip it", chromiumPath, err)
	}
}

// startBrowser starts chromium with a fresh profile; it closes when the test
// ends, before the nodes the test started earlier.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	requireChromium(t)
	out := &testkit.Buffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(out),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v\n%s", chromiumPath, err, out.String())
	}
	return &browser{t: t, ctx: ctx}
}

// noExceptions fails the test if a page threw an uncaught exception.
func (b *browser) noExceptions() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.exceptions) > 0 {
		b.t.Fatalf("uncaught exceptions in the page:\n%s", strings.Join(b.exceptions, "\n"))
	}
}

// page is one tab of the browser.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context
}

// open opens a tab with a viewport of width×height CSS pixels.
func (b *browser) open(t *testing.T, name string, width, height int64) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	p := &page{t: t, name: name, ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			text := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				text += " " + e.ExceptionDetails.Exception.Description
			}
			b.mu.Lock()
			b.exceptions = append(b.exceptions, fmt.Sprintf("%s: %s (%s:%d)", name, text, e.ExceptionDetails.URL, e.ExceptionDetails.LineNumber))
			b.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatalf("open tab %s: %v", name, err)
	}
	p.do(chromedp.EmulateViewport(width, height))
	return p
}

// do runs actions in the tab, failing the test with the page's text on error.
func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		p.t.Fatalf("%s: %v\n%s", p.name, err, p.dump())
	}
}

// pageHelpers are defined in every poll: text(selector) is an element's text.
const pageHelpers = `const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent.trim() : null; };`

// waitFor waits until the JavaScript expression is true in the page.
func (p *page) waitFor(what, expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	fn := fmt.Sprintf("() => { %s return (%s); }", pageHelpers, expr)
	if _, err := chromedp.Run(ctx, chromedp.PollFunction[bool](fn,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(waitTimeout))); err != nil {
		p.t.Fatalf("%s: waiting for %s: %v\n%s", p.name, what, err, p.dump())
	}
}

// eval evaluates a JavaScript expression with a string result.
func (p *page) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, waitTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return s
}

// dump is the page's state for failure messages.
func (p *page) dump() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`"status: " + document.getElementById("conn").textContent +
		"\n--- page text ---\n" + document.body.innerText`))
	if err != nil {
		return fmt.Sprintf("(page state unavailable: %v)", err)
	}
	return s
}

func (p *page) click(css string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(css)))
}

// join enters a display name and joins as a guest (or invitee).
func (p *page) join(name string) {
	p.t.Helper()
	p.do(chromedp.WaitVisible(chromedp.ID("display-name")),
		// clear what the page prefilled from localStorage
		chromedp.Evaluate[chromedp.Void](`document.getElementById("display-name").value = ""`),
		chromedp.SendKeys(chromedp.ID("display-name"), name),
		chromedp.Click(chromedp.ID("join-button")))
}

// enter picks a room from the list and waits until the server let it in.
func (p *page) enter(room string) {
	p.t.Helper()
	p.click(fmt.Sprintf(`#room-list button[data-room=%s]`, jsString(room)))
	p.waitFor("entering "+room, fmt.Sprintf(`(() => {
		const b = document.getElementById("room-body");
		return !b.hidden && b.dataset.room === %s && b.dataset.entered === "true";
	})()`, jsString(room)))
}

// reactions lists the page's reaction buttons.
func (p *page) reactions() []string {
	p.t.Helper()
	return strings.Split(p.eval(`Array.from(document.querySelectorAll("#reaction-buttons .react"), (b) => b.dataset.reaction).join(" ")`), " ")
}

// noOverflow checks that nothing is wider than the viewport.
func (p *page) noOverflow() {
	p.t.Helper()
	if got := p.eval(`String(document.documentElement.scrollWidth) + " " + String(window.innerWidth)`); func() bool {
		var sw, iw int
		_, err := fmt.Sscan(got, &sw, &iw)
		return err != nil || sw > iw
	}() {
		p.t.Fatalf("%s: the page overflows the viewport horizontally (scrollWidth, innerWidth = %s)", p.name, got)
	}
}

// countIs is true when the page's count of reaction is n.
func countIs(reaction string, n int) string {
	sel := fmt.Sprintf(`#reaction-buttons .react[data-reaction="%s"] .count`, reaction)
	return fmt.Sprintf(`text(%s) === %s`, jsString(sel), jsString(fmt.Sprint(n)))
}

// viewersAre is true when the page's viewer list holds exactly these ids.
func viewersAre(ids ...string) string {
	want := slices.Clone(ids)
	slices.Sort(want)
	return fmt.Sprintf(`!document.getElementById("viewer-list").hidden &&
		JSON.stringify(Array.from(document.querySelectorAll("#viewer-list li"), (li) => li.dataset.user).sort()) === %s`,
		jsString(mustJSON(want)))
}

// roomNamed finds a room's id by name in an authenticated payload.
func roomNamed(t *testing.T, authenticated json.RawMessage, name string) string {
	t.Helper()
	var a struct {
		World struct {
			Rooms []struct{ ID, Name string } `json:"rooms"`
		} `json:"world.config"`
	}
	if err := json.Unmarshal(authenticated, &a); err != nil {
		t.Fatal(err)
	}
	for _, r := range a.World.Rooms {
		if r.Name == name {
			return r.ID
		}
	}
	t.Fatalf("no room %q in %s", name, authenticated)
	return ""
}

// jsString is s as a JavaScript string literal (JSON strings are valid JS).
func jsString(s string) string { return mustJSON(s) }

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
