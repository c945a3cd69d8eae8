package comet

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duplexgo/duplex/ws"
)

type harness struct {
	t   *testing.T
	srv *Server
	ts  *httptest.Server
	got chan *Session
}

func newHarness(t *testing.T, opts Options) *harness {
	h := &harness{t: t, got: make(chan *Session, 16)}
	h.srv = NewServer(opts, func(s *Session) { h.got <- s })
	mux := http.NewServeMux()
	mux.Handle("/comet/", h.srv)
	h.ts = httptest.NewServer(mux)
	t.Cleanup(func() { h.srv.Shutdown(context.Background(), "test over"); h.ts.Close() })
	return h
}

func (h *harness) do(method, path string, body string, hdr ...string) (int, http.Header, string) {
	h.t.Helper()
	return doRequest(h.t, method, h.ts.URL+"/comet/"+path, body, hdr...)
}

// doRequest sends one request with the header pairs in hdr and returns
// the status, headers and body of the answer.
func doRequest(t *testing.T, method, url, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (h *harness) open() (string, *Session) {
	h.t.Helper()
	code, hdr, body := h.do("POST", "open", "")
	if code != 200 || hdr.Get("Cache-Control") != "no-store" {
		h.t.Fatalf("open: %d %q", code, body)
	}
	var r struct{ ID string }
	json.Unmarshal([]byte(body), &r)
	if len(r.ID) != 32 {
		h.t.Fatalf("id %q", r.ID)
	}
	return r.ID, <-h.got
}

// wireMsg is a server message of the duplex dialect as a client decodes it.
type wireMsg struct {
	Seq    uint64 `json:"seq"`
	Data   string `json:"data"`
	Binary bool   `json:"binary"`
	Event  string `json:"event"`
}

type pollResult struct {
	Messages []wireMsg
	Closed   bool
}

func (h *harness) poll(id string, ack uint64, extra string) pollResult {
	h.t.Helper()
	code, _, body := h.do("GET", fmt.Sprintf("poll?id=%s&ack=%d%s", id, ack, extra), "")
	if code != 200 {
		h.t.Fatalf("poll: %d %q", code, body)
	}
	var r pollResult
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		h.t.Fatalf("poll body %q: %v", body, err)
	}
	return r
}

func TestLongPollExactlyOnceInOrder(t *testing.T) {
	h := newHarness(t, Options{PollTimeout: 300 * time.Millisecond})
	id, s := h.open()
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		s.Send(ctx, fmt.Sprintf("m%d", i))
	}
	r := h.poll(id, 0, "")
	if len(r.Messages) != 3 || r.Messages[0].Seq != 1 || r.Messages[2].Data != "m3" {
		t.Fatalf("batch: %+v", r)
	}
	// The answer was lost: polling again with the old ack resends the same.
	r = h.poll(id, 0, "")
	if len(r.Messages) != 3 {
		t.Fatalf("resend: %+v", r)
	}
	// Acknowledged: nothing more, the poll is held and times out empty.
	start := time.Now()
	r = h.poll(id, 3, "")
	if len(r.Messages) != 0 || time.Since(start) < 250*time.Millisecond {
		t.Fatalf("held poll: %+v after %v", r, time.Since(start))
	}
	// A held poll is answered as soon as a message is sent.
	go func() { time.Sleep(50 * time.Millisecond); s.Send(ctx, "m4") }()
	r = h.poll(id, 3, "")
	if len(r.Messages) != 1 || r.Messages[0].Seq != 4 || r.Messages[0].Data != "m4" {
		t.Fatalf("wake: %+v", r)
	}
	// Short poll answers at once.
	start = time.Now()
	if r = h.poll(id, 4, "&wait=0"); len(r.Messages) != 0 || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("short poll: %+v", r)
	}
	if s.Transport() != "poll" {
		t.Fatalf("transport %q", s.Transport())
	}
}

func TestSecondPollEndsFirst(t *testing.T) {
	h := newHarness(t, Options{PollTimeout: 5 * time.Second})
	id, _ := h.open()
	done := make(chan pollResult, 1)
	go func() { done <- h.poll(id, 0, "") }()
	time.Sleep(100 * time.Millisecond)
	go h.poll(id, 0, "")
	select {
	case r := <-done:
		if len(r.Messages) != 0 || r.Closed {
			t.Fatalf("older poll: %+v", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the older poll was not answered when a newer one came")
	}
}

func TestQueueBoundAndAck(t *testing.T) {
	h := newHarness(t, Options{QueueLen: 2})
	id, s := h.open()
	ctx := context.Background()
	if s.Send(ctx, "a") != nil || s.Send(ctx, "b") != nil {
		t.Fatal("send")
	}
	if err := s.Send(ctx, "c"); err != ErrQueueFull {
		t.Fatalf("third send: %v", err)
	}
	h.poll(id, 1, "&wait=0") // acks "a"
	if err := s.Send(ctx, "c"); err != nil {
		t.Fatalf("after ack: %v", err)
	}
}

func TestClientToServer(t *testing.T) {
	h := newHarness(t, Options{MaxBodyBytes: 1024, InboundLen: 4})
	id, s := h.open()
	post := func(body string) (int, string) {
		code, _, b := h.do("POST", "send?id="+id, body, "Content-Type", "application/json")
		return code, b
	}
	if code, _ := post(`[{"seq":1,"data":"hello"},{"seq":2,"data":"world"}]`); code != 204 {
		t.Fatalf("send: %d", code)
	}
	// The same POST again (its answer was lost): not delivered twice.
	if code, _ := post(`[{"seq":1,"data":"hello"},{"seq":2,"data":"world"}]`); code != 204 {
		t.Fatalf("resend: %d", code)
	}
	if code, b := post(`[{"seq":4,"data":"gap"}]`); code != 503 || !strings.Contains(b, `"next":3`) {
		t.Fatalf("gap: %d %q", code, b)
	}
	if code, _ := post(`[{"seq":3,"data":"` + strings.Repeat("x", 2000) + `"}]`); code != 413 {
		t.Fatalf("big body: %d", code)
	}
	if code, _ := post(`{"not":"an array"}`); code != 400 {
		t.Fatalf("bad body: %d", code)
	}
	ctx := context.Background()
	for _, want := range []string{"hello", "world"} {
		if got, err := s.Receive(ctx); err != nil || got != (Message{Data: want}) {
			t.Fatalf("Receive = %+v, %v; want %q", got, err, want)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if got, err := s.Receive(short); err == nil {
		t.Fatalf("a duplicate was delivered: %+v", got)
	}
}

func TestSSEResume(t *testing.T) {
	h := newHarness(t, Options{Heartbeat: 50 * time.Millisecond})
	id, s := h.open()
	ctx := context.Background()
	s.Send(ctx, "one")
	s.Send(ctx, "line\nbreak\r\n: not a comment")
	read := func(lastID string, want int) []string {
		req, _ := http.NewRequest("GET", h.ts.URL+"/comet/sse?id="+id, nil)
		if lastID != "" {
			req.Header.Set("Last-Event-ID", lastID)
		}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(cctx))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Fatalf("content type %q", ct)
		}
		var events []string
		sc := bufio.NewScanner(resp.Body)
		var id string
		for sc.Scan() && len(events) < want {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = line[4:]
			case strings.HasPrefix(line, "data: "):
				var d wireMsg
				json.Unmarshal([]byte(line[6:]), &d)
				events = append(events, id+"="+d.Data)
			}
		}
		return events
	}
	got := read("", 2)
	if len(got) != 2 || got[0] != "1=one" || got[1] != "2=line\nbreak\r\n: not a comment" {
		t.Fatalf("events %q", got)
	}
	s.Send(ctx, "three")
	// Reconnect having seen event 1 only: 2 and 3 come again, in order.
	got = read("1", 2)
	if len(got) != 2 || got[0][:2] != "2=" || got[1] != "3=three" {
		t.Fatalf("resumed %q", got)
	}
	if s.Transport() != "sse" {
		t.Fatalf("transport %q", s.Transport())
	}
}

func TestHTTPErrors(t *testing.T) {
	h := newHarness(t, Options{MaxSessions: 1, SessionTimeout: 200 * time.Millisecond})
	id, s := h.open()
	for _, tc := range []struct {
		method, path string
		hdr          []string
		code         int
	}{
		{"GET", "open", nil, 405},
		{"POST", "poll?id=" + id, nil, 405},
		{"GET", "poll?id=00000000000000000000000000000000", nil, 404},
		{"GET", "poll?id=" + id + "&ack=x", nil, 400},
		{"GET", "poll?id=" + id + "&wait=0", []string{"Origin", "https://evil.example"}, 403},
		{"POST", "open", nil, 503},
		{"GET", "nothing", nil, 404},
	} {
		code, hdr, body := h.do(tc.method, tc.path, "", tc.hdr...)
		if code != tc.code {
			t.Errorf("%s %s: %d %q, want %d", tc.method, tc.path, code, body, tc.code)
		}
		if code == 503 && hdr.Get("Retry-After") == "" {
			t.Errorf("503 without Retry-After")
		}
		if code == 405 && hdr.Get("Allow") == "" {
			t.Errorf("405 without Allow")
		}
	}
	// Idle past SessionTimeout: the session expires and answers 410.
	select {
	case <-s.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("session did not expire")
	}
	if code, _, _ := h.do("GET", "poll?id="+id+"&wait=0", ""); code != 410 {
		t.Fatalf("expired session: %d", code)
	}
	if err := s.Send(context.Background(), "x"); err != ErrSessionClosed {
		t.Fatalf("Send on an expired session: %v", err)
	}
}

func TestShutdownAnswersHeldPoll(t *testing.T) {
	h := newHarness(t, Options{PollTimeout: 10 * time.Second})
	id, _ := h.open()
	done := make(chan pollResult, 1)
	go func() { done <- h.poll(id, 0, "") }()
	time.Sleep(100 * time.Millisecond)
	if err := h.srv.Shutdown(context.Background(), "going away"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if !r.Closed {
			t.Fatalf("held poll after shutdown: %+v", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("held poll not answered on shutdown")
	}
	if h.srv.Len() != 0 {
		t.Fatalf("%d sessions left", h.srv.Len())
	}
}

func TestSSEHeartbeat(t *testing.T) {
	h := newHarness(t, Options{Heartbeat: 50 * time.Millisecond})
	id, _ := h.open()
	resp, err := http.Get(h.ts.URL + "/comet/sse?id=" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	deadline := time.AfterFunc(2*time.Second, func() { resp.Body.Close() })
	defer deadline.Stop()
	for sc.Scan() {
		if sc.Text() == ": hb" {
			return
		}
	}
	t.Fatal("no heartbeat comment on an idle stream")
}

// TestUpgradeToWebSocketAndBack: messages flow over long polling, the
// client upgrades to WebSocket (the held poll is answered), receives the
// rest there, the socket dies with an unacknowledged message, and long
// polling resends it: every message delivered once, in order.
func TestUpgradeToWebSocketAndBack(t *testing.T) {
	h := newHarness(t, Options{PollTimeout: 5 * time.Second})
	id, s := h.open()
	ctx := context.Background()
	var got []string
	last := uint64(0)
	take := func(msgs []wireMsg) {
		for _, m := range msgs {
			if m.Seq == last+1 {
				got = append(got, m.Data)
				last = m.Seq
			}
		}
	}
	s.Send(ctx, "p1")
	take(h.poll(id, last, "").Messages)

	held := make(chan pollResult, 1)
	go func() { held <- h.poll(id, last, "") }()
	time.Sleep(100 * time.Millisecond)
	c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(h.ts.URL, "http")+"/comet/ws?id="+id+"&ack=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-held:
		if len(r.Messages) != 0 {
			t.Fatalf("superseded poll delivered %+v", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("held poll not ended by the upgrade")
	}
	s.Send(ctx, "w2")
	s.Send(ctx, "w3")
	for i := 0; i < 2; i++ {
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		var m wireMsg
		json.Unmarshal(msg, &m)
		take([]wireMsg{m})
	}
	// Acknowledge w2 only, send a message up, then lose the socket.
	c.WriteMessage(ctx, ws.Text, []byte(`{"ack":2,"seq":1,"data":"up"}`))
	if up, err := s.Receive(ctx); err != nil || up.Data != "up" {
		t.Fatalf("Receive over WebSocket: %+v %v", up, err)
	}
	if _, conf, err := c.ReadMessage(ctx, nil); err != nil || string(conf) != `{"in":1}` {
		t.Fatalf("confirmation of the client's message: %q %v", conf, err)
	}
	time.Sleep(50 * time.Millisecond)
	c.CloseNow()
	if s.Transport() != "websocket" {
		t.Fatalf("transport %q", s.Transport())
	}
	// Back on long polling, acknowledging only what the server knows was
	// acknowledged: w3 comes again and the client drops nothing twice.
	s.Send(ctx, "p4")
	take(h.poll(id, 2, "").Messages)
	want := []string{"p1", "w2", "w3", "p4"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}

// TestStreamingTransports reads XHR streaming (NDJSON) and the forever
// iframe: padding first, then each message once, in order, with text that
// tries to end the script element arriving as data, not markup.
func TestStreamingTransports(t *testing.T) {
	hostile := "</script><script>alert(1)</script>\u2028<!--"
	for _, tc := range []struct{ op, contentType string }{
		{"stream", "application/x-ndjson"},
		{"iframe", "text/html"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			h := newHarness(t, Options{Heartbeat: time.Hour})
			id, s := h.open()
			ctx := context.Background()
			s.Send(ctx, "first")
			s.Send(ctx, hostile)
			s.Send(ctx, "third")
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			req, _ := http.NewRequestWithContext(cctx, "GET", h.ts.URL+"/comet/"+tc.op+"?id="+id+"&ack=1", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.contentType) {
				t.Fatalf("content type %q", ct)
			}
			br := bufio.NewReader(resp.Body)
			pad, _ := br.ReadString('\n')
			if len(pad) < 1024 {
				t.Fatalf("padding of %d bytes", len(pad))
			}
			var got []wireMsg
			for len(got) < 2 {
				line, err := br.ReadString('\n')
				if err != nil {
					t.Fatal(err)
				}
				if strings.Contains(line, "alert(1)</script>") || strings.Contains(line, "\u2028") {
					t.Fatalf("unescaped message in the stream: %q", line)
				}
				if tc.op == "iframe" {
					if !strings.HasPrefix(line, iframeCall) {
						t.Fatalf("line %q", line)
					}
					line = strings.TrimSuffix(strings.TrimPrefix(line, iframeCall), ")</script>\n")
				}
				var m wireMsg
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				got = append(got, m)
			}
			if got[0].Seq != 2 || got[0].Data != hostile || got[1].Seq != 3 || got[1].Data != "third" {
				t.Fatalf("got %+v", got)
			}
			if s.Transport() != tc.op {
				t.Fatalf("transport %q", s.Transport())
			}
		})
	}
}

func TestHubBroadcastEncodesOnce(t *testing.T) {
	h := newHarness(t, Options{QueueLen: 2})
	hub := NewHub()
	var sessions []*Session
	for i := 0; i < 3; i++ {
		_, s := h.open()
		hub.Join(s, "room")
		sessions = append(sessions, s)
	}
	if q, d := hub.Broadcast("room", "<b>hello</b>"); q != 3 || d != 0 {
		t.Fatalf("queued %d dropped %d", q, d)
	}
	// Every session queued the same encoded bytes: encoded once.
	first := sessions[0].out[0].p
	for _, s := range sessions[1:] {
		if s.out[0].p != first {
			t.Fatal("broadcast encoded per session")
		}
	}
	if string(first.native) != `,"data":"\u003cb\u003ehello\u003c/b\u003e"` {
		t.Fatalf("encoding %s", first.native)
	}
	// A session that does not acknowledge fills up and is skipped, not
	// waited for.
	hub.Broadcast("room", "2")
	if q, d := hub.Broadcast("room", "3"); q != 0 || d != 3 {
		t.Fatalf("full queues: queued %d dropped %d", q, d)
	}
	sessions[1].Close("bye")
	deadline := time.Now().Add(time.Second)
	for hub.Len("room") != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if hub.Len("room") != 2 {
		t.Fatalf("closed session still in the group: %d", hub.Len("room"))
	}
}
