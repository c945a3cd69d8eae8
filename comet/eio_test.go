package comet

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/ws"
)

// eioHarness serves a Server's Engine.IO dialect at /engine.io/.
type eioHarness struct {
	t   *testing.T
	srv *Server
	ts  *httptest.Server
	got chan *Session
}

func newEIOHarness(t *testing.T, opts Options, eo EngineIOOptions) *eioHarness {
	h := &eioHarness{t: t, got: make(chan *Session, 16)}
	h.srv = NewServer(opts, func(s *Session) { h.got <- s })
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", h.srv.EngineIO(eo))
	h.ts = httptest.NewServer(mux)
	t.Cleanup(func() { h.srv.Shutdown(context.Background(), "test over"); h.ts.Close() })
	return h
}

func (h *eioHarness) do(method, query, body string) (int, string) {
	h.t.Helper()
	code, _, b := doRequest(h.t, method, h.ts.URL+"/engine.io/?"+query, body)
	return code, b
}

// open runs the polling handshake and returns the sid and the session.
func (h *eioHarness) open() (string, *Session) {
	h.t.Helper()
	code, body := h.do("GET", "EIO=4&transport=polling", "")
	if code != 200 || !strings.HasPrefix(body, "0{") {
		h.t.Fatalf("handshake: %d %q", code, body)
	}
	var hs struct {
		SID          string
		Upgrades     []string
		PingInterval int
		PingTimeout  int
		MaxPayload   int
	}
	if err := json.Unmarshal([]byte(body[1:]), &hs); err != nil || len(hs.SID) != 32 ||
		len(hs.Upgrades) != 1 || hs.Upgrades[0] != "websocket" || hs.PingInterval == 0 || hs.MaxPayload == 0 {
		h.t.Fatalf("handshake %q: %v", body, err)
	}
	return hs.SID, <-h.got
}

func (h *eioHarness) poll(sid string) string {
	h.t.Helper()
	code, body := h.do("GET", "EIO=4&transport=polling&sid="+sid, "")
	if code != 200 {
		h.t.Fatalf("poll: %d %q", code, body)
	}
	return body
}

func (h *eioHarness) post(sid, body string) {
	h.t.Helper()
	if code, b := h.do("POST", "EIO=4&transport=polling&sid="+sid, body); code != 200 || b != "ok" {
		h.t.Fatalf("post %q: %d %q", body, code, b)
	}
}

func receive(t *testing.T, s *Session) Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	m, err := s.Receive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEngineIOPolling follows the protocol document's examples: the
// handshake, messages each way batched with the record separator, binary
// as "b" and base64.
func TestEngineIOPolling(t *testing.T) {
	h := newEIOHarness(t, Options{}, EngineIOOptions{})
	sid, s := h.open()
	ctx := context.Background()
	s.Send(ctx, "hey")
	s.SendBinary(ctx, []byte{1, 2, 3})
	if got := h.poll(sid); got != "4hey\x1ebAQID" {
		t.Fatalf("poll %q", got)
	}
	if err := s.SendMessage(ctx, Message{Event: "x", Data: "[]"}); err != ErrEventUnsupported {
		t.Fatalf("event over plain Engine.IO: %v", err)
	}
	h.post(sid, "4hello\x1e4world\x1ebAQID")
	for _, want := range []Message{{Data: "hello"}, {Data: "world"}, {Data: "\x01\x02\x03", Binary: true}} {
		if m := receive(t, s); m != want {
			t.Fatalf("got %+v, want %+v", m, want)
		}
	}
}

func TestEngineIOErrors(t *testing.T) {
	h := newEIOHarness(t, Options{MaxBodyBytes: 100}, EngineIOOptions{})
	for _, tc := range []struct{ method, query, body, want string }{
		{"GET", "EIO=3&transport=polling", "", `{"code":5,`},
		{"GET", "EIO=4&transport=flashsocket", "", `{"code":0,`},
		{"GET", "EIO=4&transport=polling&sid=nope", "", `{"code":1,`},
		{"POST", "EIO=4&transport=polling", "", `{"code":2,`},
	} {
		if code, body := h.do(tc.method, tc.query, tc.body); code != 400 || !strings.HasPrefix(body, tc.want) {
			t.Errorf("%s %s: %d %q, want 400 %s", tc.method, tc.query, code, body, tc.want)
		}
	}
	sid, s := h.open()
	if code, _ := h.do("POST", "EIO=4&transport=polling&sid="+sid, "4"+strings.Repeat("x", 200)); code != 413 {
		t.Errorf("oversized POST: %d", code)
	}
	if code, _ := h.do("POST", "EIO=4&transport=polling&sid="+sid, "9what"); code != 400 {
		t.Errorf("unknown packet type: %d", code)
	}
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("a protocol error left the session open")
	}

	// Two GETs at once: the protocol forbids it; the session ends.
	sid, s = h.open()
	held := make(chan string, 1)
	go func() { held <- h.poll(sid) }()
	time.Sleep(50 * time.Millisecond)
	if code, _ := h.do("GET", "EIO=4&transport=polling&sid="+sid, ""); code != 400 {
		t.Errorf("overlapping poll: %d", code)
	}
	if got := <-held; got != "1" {
		t.Errorf("held poll answered %q, want the close packet", got)
	}
	<-s.Done()
}

// TestEngineIOHeartbeat: the server pings; a client that answers keeps
// its session, one that does not loses it after PingTimeout.
func TestEngineIOHeartbeat(t *testing.T) {
	h := newEIOHarness(t, Options{}, EngineIOOptions{PingInterval: 40 * time.Millisecond, PingTimeout: 60 * time.Millisecond})
	sid, s := h.open()
	for i := 0; i < 3; i++ {
		if got := h.poll(sid); got != "2" {
			t.Fatalf("poll %d: %q, want a ping", i, got)
		}
		h.post(sid, "3")
	}
	if got := h.poll(sid); got != "2" {
		t.Fatalf("poll: %q, want a ping", got)
	}
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("no pong, yet the session lives on")
	}
	if code, _ := h.do("GET", "EIO=4&transport=polling&sid="+sid, ""); code != 400 {
		t.Fatalf("poll of an expired session: %d", code)
	}
}

func dialEIO(t *testing.T, h *eioHarness, query string) *ws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(h.ts.URL, "http")+"/engine.io/?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readText(t *testing.T, c *ws.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	typ, b, err := c.ReadMessage(ctx, nil)
	if err != nil || typ != ws.Text {
		t.Fatalf("read: %v %v %q", typ, err, b)
	}
	return string(b)
}

// TestEngineIOUpgrade: polling, then the probe, the held poll ended with
// a noop, the upgrade, and messages on the socket; polling is refused
// afterwards.
func TestEngineIOUpgrade(t *testing.T) {
	h := newEIOHarness(t, Options{}, EngineIOOptions{})
	sid, s := h.open()
	ctx := context.Background()
	held := make(chan string, 1)
	go func() { held <- h.poll(sid) }()
	time.Sleep(50 * time.Millisecond)
	c := dialEIO(t, h, "EIO=4&transport=websocket&sid="+sid)
	c.WriteMessage(ctx, ws.Text, []byte("2probe"))
	if got := readText(t, c); got != "3probe" {
		t.Fatalf("probe answer %q", got)
	}
	if got := <-held; got != "6" {
		t.Fatalf("held poll answered %q, want a noop", got)
	}
	s.Send(ctx, "queued before the upgrade packet")
	c.WriteMessage(ctx, ws.Text, []byte("5"))
	if got := readText(t, c); got != "4queued before the upgrade packet" {
		t.Fatalf("after upgrade: %q", got)
	}
	s.SendBinary(ctx, []byte{9, 8})
	if typ, b, err := c.ReadMessage(ctx, nil); err != nil || typ != ws.Binary || string(b) != "\x09\x08" {
		t.Fatalf("binary: %v %q %v", typ, b, err)
	}
	c.WriteMessage(ctx, ws.Text, []byte("4up"))
	c.WriteMessage(ctx, ws.Binary, []byte{7})
	if m := receive(t, s); m != (Message{Data: "up"}) {
		t.Fatalf("got %+v", m)
	}
	if m := receive(t, s); m != (Message{Data: "\x07", Binary: true}) {
		t.Fatalf("got %+v", m)
	}
	if s.Transport() != "websocket" {
		t.Fatalf("transport %q", s.Transport())
	}
	if code, _ := h.do("GET", "EIO=4&transport=polling&sid="+sid, ""); code != 400 {
		t.Fatalf("polling after the upgrade: %d", code)
	}
	h.srv.Shutdown(ctx, "bye")
	if got := readText(t, c); got != "1" {
		t.Fatalf("at shutdown: %q, want the close packet", got)
	}
	_, _, err := c.ReadMessage(ctx, nil)
	var ce *ws.CloseError
	if !errors.As(err, &ce) || ce.Code != frame.CloseGoingAway {
		t.Fatalf("close: %v", err)
	}
}

// TestSocketIO: CONNECT and its answer, "message" events both ways,
// another event with an acknowledgement, a binary message, a wrong
// namespace, DISCONNECT.
func TestSocketIO(t *testing.T) {
	h := newEIOHarness(t, Options{}, EngineIOOptions{SocketIO: true})
	sid, s := h.open()
	ctx := context.Background()
	s.Send(ctx, "early") // held until the client joins the namespace
	h.post(sid, "40\x1e40/admin,")
	got := strings.Split(h.poll(sid), "\x1e")
	if len(got) != 3 || !strings.HasPrefix(got[0], `40{"sid":"`) || got[1] != `44/admin,{"message":"Invalid namespace"}` ||
		got[2] != `42["message","early"]` {
		t.Fatalf("after CONNECT: %q", got)
	}
	s.SendMessage(ctx, Message{Event: "news", Data: `[{"a":1},"b"]`})
	s.SendBinary(ctx, []byte{0xff})
	if err := s.SendMessage(ctx, Message{Event: "bad", Data: "not json"}); err == nil {
		t.Fatal("an event whose Data is not a JSON array was accepted")
	}
	if got := h.poll(sid); got != `42["news",{"a":1},"b"]`+"\x1e"+`451-["message",{"_placeholder":true,"num":0}]`+"\x1eb/w==" {
		t.Fatalf("poll %q", got)
	}
	h.post(sid, `42["message","hi"]`+"\x1e"+`427["chat","x",2]`+"\x1e"+`451-["message",{"_placeholder":true,"num":0}]`+"\x1ebAQ==")
	for _, want := range []Message{{Data: "hi"}, {Event: "chat", Data: `["x",2]`}, {Data: "\x01", Binary: true}} {
		if m := receive(t, s); m != want {
			t.Fatalf("got %+v, want %+v", m, want)
		}
	}
	if got := h.poll(sid); got != "437[]" {
		t.Fatalf("ack: %q", got)
	}
	h.post(sid, "41")
	<-s.Done()
}

// TestEngineIOWebSocketOnly: a client that starts on WebSocket gets the
// open packet as its first message, with no upgrades.
func TestEngineIOWebSocketOnly(t *testing.T) {
	h := newEIOHarness(t, Options{}, EngineIOOptions{})
	c := dialEIO(t, h, "EIO=4&transport=websocket")
	if got := readText(t, c); !strings.HasPrefix(got, "0{") || !strings.Contains(got, `"upgrades":[]`) {
		t.Fatalf("open %q", got)
	}
	s := <-h.got
	ctx := context.Background()
	s.Send(ctx, "x")
	if got := readText(t, c); got != "4x" {
		t.Fatalf("got %q", got)
	}
	c.WriteMessage(ctx, ws.Text, []byte("1"))
	select {
	case <-s.Done():
	case <-time.After(time.Second):
		t.Fatal("the close packet did not end the session")
	}
}

// TestRegistryShared: plain WebSockets and sessions of both dialects
// count against one MaxSessions; beyond it HTTP gets 503 and a WebSocket
// 1013; Shutdown closes plain sockets with 1001.
func TestRegistryShared(t *testing.T) {
	h := newEIOHarness(t, Options{MaxSessions: 2}, EngineIOOptions{})
	served := make(chan struct{}, 4)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", h.srv.EngineIO(EngineIOOptions{}))
	mux.Handle("/comet/", h.srv)
	mux.Handle("/plain", h.srv.WebSocketHandler(nil, func(ctx context.Context, c *ws.Conn) {
		served <- struct{}{}
		<-ctx.Done()
	}))
	h.ts.Config.Handler = mux
	ctx := context.Background()
	plain := func() *ws.Conn {
		c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(h.ts.URL, "http")+"/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	c1 := plain()
	<-served
	h.open()
	if st := h.srv.Stats(); st.Sessions != 1 || st.WebSockets != 1 || st.ByTransport["polling"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if code, _ := h.do("GET", "EIO=4&transport=polling", ""); code != 503 {
		t.Fatalf("Engine.IO handshake at the limit: %d", code)
	}
	resp, err := http.Post(h.ts.URL+"/comet/open", "", nil)
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("duplex open at the limit: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	c2 := plain()
	_, _, err = c2.ReadMessage(ctx, nil)
	var ce *ws.CloseError
	if !errors.As(err, &ce) || ce.Code != frame.CloseTryAgainLater {
		t.Fatalf("plain WebSocket at the limit: %v", err)
	}
	closed := make(chan error, 1)
	go func() { _, _, err := c1.ReadMessage(ctx, nil); closed <- err }() // a client answers the Close
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(sctx, "maintenance"); err != nil {
		t.Fatal(err)
	}
	if err = <-closed; !errors.As(err, &ce) || ce.Code != frame.CloseGoingAway || ce.Reason != "maintenance" {
		t.Fatalf("plain WebSocket at shutdown: %v", err)
	}
	if st := h.srv.Stats(); st.Sessions != 0 || st.WebSockets != 0 {
		t.Fatalf("after shutdown %+v", st)
	}
}

// TestSocketIOProtocolErrors: each malformed Socket.IO packet gets the
// Engine.IO "Bad request" (400, code 3) and ends the session, whose
// reason names what was wrong.
func TestSocketIOProtocolErrors(t *testing.T) {
	h := newEIOHarness(t, Options{}, EngineIOOptions{SocketIO: true})
	for _, tc := range []struct{ name, body, reason string }{
		{"event before CONNECT", `42["message","x"]`, "event before CONNECT"},
		{"event not an array", "40\x1e42{\"a\":1}", "event is not a JSON array"},
		{"empty event", "40\x1e42[]", "event is not a JSON array"},
		{"event name not a string", "40\x1e42[1,2]", "event name is not a string"},
		{"bad attachment count", "40\x1e45x-[\"message\"]", "bad attachment count"},
		{"too many attachments", "40\x1e4517-[\"message\"]", "bad attachment count"},
		{"attachment without event", "40\x1ebAQ==", "binary attachment without a binary event"},
		{"unsupported binary event", "40\x1e451-[\"other\",{\"_placeholder\":true,\"num\":0}]\x1ebAQ==", `binary events other than "message"`},
		{"unknown packet type", "40\x1e49", "unexpected Socket.IO packet type"},
		{"namespace never joined", "40\x1e42/admin,[\"x\"]", `namespace "/admin" was never joined`},
		{"binary not base64", "40\x1eb!!", "binary packet is not base64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sid, s := h.open()
			code, body := h.do("POST", "EIO=4&transport=polling&sid="+sid, tc.body)
			if code != 400 || !strings.HasPrefix(body, `{"code":3,`) {
				t.Fatalf("answer %d %q, want 400 code 3", code, body)
			}
			select {
			case <-s.Done():
			case <-time.After(time.Second):
				t.Fatal("the session is still open")
			}
			s.mu.Lock()
			reason := s.reason
			s.mu.Unlock()
			if !strings.Contains(reason, tc.reason) {
				t.Fatalf("reason %q, want it to name %q", reason, tc.reason)
			}
		})
	}
}

// TestEngineIOProbeViolation: a socket joining a polling session must
// start with the probe; anything else closes it with 1002.
func TestEngineIOProbeViolation(t *testing.T) {
	h := newEIOHarness(t, Options{}, EngineIOOptions{})
	sid, _ := h.open()
	c := dialEIO(t, h, "EIO=4&transport=websocket&sid="+sid)
	ctx := context.Background()
	c.WriteMessage(ctx, ws.Text, []byte("4not a probe"))
	_, _, err := c.ReadMessage(ctx, nil)
	var ce *ws.CloseError
	if !errors.As(err, &ce) || ce.Code != frame.CloseProtocolError {
		t.Fatalf("close: %v, want 1002", err)
	}
}
