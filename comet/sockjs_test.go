package comet

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/duplexgo/duplex/ws"
)

// The SockJS tests follow the protocol's own test suite (sockjs-protocol
// 0.3.3): an "echo" service, a "close" service whose sessions the
// application closes at once, and a 4 KiB response limit.

type sockjsHarness struct {
	t  *testing.T
	ts *httptest.Server
}

func newSockJSHarness(t *testing.T) *sockjsHarness {
	echo := NewServer(Options{MaxBodyBytes: 1 << 20}, func(s *Session) {
		for {
			m, err := s.Receive(context.Background())
			if err != nil {
				return
			}
			s.Send(context.Background(), m.Data)
		}
	})
	closing := NewServer(Options{}, func(s *Session) { s.Close("") })
	o := SockJSOptions{ResponseLimit: 4096, DisconnectDelay: 200 * time.Millisecond, ClientURL: "/sockjs.js"}
	mux := http.NewServeMux()
	mux.Handle("/echo/", echo.SockJS("/echo", o))
	mux.Handle("/echo", echo.SockJS("/echo", o))
	mux.Handle("/close/", closing.SockJS("/close", o))
	ts := httptest.NewServer(mux)
	t.Cleanup(func() {
		echo.Shutdown(context.Background(), "")
		closing.Shutdown(context.Background(), "")
		ts.Close()
	})
	return &sockjsHarness{t: t, ts: ts}
}

type sjResponse struct {
	code int
	hdr  http.Header
	body string
}

func (h *sockjsHarness) do(method, path, body string, hdr ...string) sjResponse {
	h.t.Helper()
	code, hd, b := doRequest(h.t, method, h.ts.URL+path, body, hdr...)
	return sjResponse{code, hd, b}
}

func (h *sockjsHarness) expect(r sjResponse, code int, body string) {
	h.t.Helper()
	if r.code != code || body != "*" && r.body != body {
		h.t.Fatalf("got %d %q, want %d %q", r.code, r.body, code, body)
	}
}

func TestSockJSStaticURLs(t *testing.T) {
	h := newSockJSHarness(t)
	for _, p := range []string{"/echo", "/echo/"} {
		r := h.do("GET", p, "")
		h.expect(r, 200, "Welcome to SockJS!\n")
		if ct := r.hdr.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
			t.Errorf("greeting content type %q", ct)
		}
	}
	// ("//" and "///" are the protocol's too, but net/http's ServeMux
	// redirects them to "/" before a handler sees them.)
	for _, p := range []string{"/a", "/a.html", "/a/a", "/a/a/", "/iframe.htm", "/iframe", "/IFRAME.HTML", "/iframe-/.html"} {
		if r := h.do("GET", "/echo"+p, ""); r.code != 404 {
			t.Errorf("GET /echo%s: %d, want 404", p, r.code)
		}
	}
	var etag string
	for _, p := range []string{"/iframe.html", "/iframe-a.html", "/iframe-0.1.2abc-dirty.2144.html?t=1"} {
		r := h.do("GET", "/echo"+p, "")
		h.expect(r, 200, "*")
		if !strings.Contains(r.body, `<script src="/sockjs.js"></script>`) || !strings.Contains(r.hdr.Get("Cache-Control"), "max-age=31536000") ||
			r.hdr.Get("ETag") == "" || r.hdr.Get("Expires") == "" {
			t.Fatalf("iframe page %v %q", r.hdr, r.body)
		}
		etag = r.hdr.Get("ETag")
	}
	if r := h.do("GET", "/echo/iframe.html", "", "If-None-Match", etag); r.code != 304 || r.body != "" {
		t.Fatalf("If-None-Match: %d %q", r.code, r.body)
	}
	var entropy []uint32
	for range 2 {
		r := h.do("GET", "/echo/info", "")
		var info struct {
			Websocket    bool
			CookieNeeded bool `json:"cookie_needed"`
			Origins      []string
			Entropy      uint32
		}
		if err := json.Unmarshal([]byte(r.body), &info); err != nil || !info.Websocket || len(info.Origins) != 1 ||
			r.hdr.Get("Cache-Control") != "no-store, no-cache, must-revalidate, max-age=0" || r.hdr.Get("Access-Control-Allow-Origin") != "*" {
			t.Fatalf("info %v %q", r.hdr, r.body)
		}
		entropy = append(entropy, info.Entropy)
	}
	if entropy[0] == entropy[1] {
		t.Error("the same entropy twice")
	}
	r := h.do("OPTIONS", "/echo/info", "")
	if r.code != 204 || r.hdr.Get("Access-Control-Allow-Methods") != "OPTIONS, GET" || r.hdr.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("OPTIONS /info: %d %v", r.code, r.hdr)
	}
}

func TestSockJSXHRPolling(t *testing.T) {
	h := newSockJSHarness(t)
	for _, bad := range []string{"//", "/a./a", "/a/a.", "/./.", "/", "///"} {
		if r := h.do("POST", "/echo"+bad+"/xhr", ""); r.code != 404 {
			t.Errorf("POST /echo%s/xhr: %d", bad, r.code)
		}
	}
	h.expect(h.do("POST", "/echo/000/s1/xhr", ""), 200, "o\n")
	r := h.do("POST", "/echo/000/s1/xhr_send", `["a"]`)
	h.expect(r, 204, "")
	if r.hdr.Get("Content-Type") != "text/plain; charset=UTF-8" {
		t.Errorf("xhr_send content type %q", r.hdr.Get("Content-Type"))
	}
	// The server id is for load balancers; the session is the same.
	r = h.do("POST", "/echo/999/s1/xhr", "")
	h.expect(r, 200, `a["a"]`+"\n")
	if r.hdr.Get("Content-Type") != "application/javascript; charset=UTF-8" || r.hdr.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("xhr headers %v", r.hdr)
	}
	h.expect(h.do("POST", "/echo/000/bad_session/xhr_send", `["a"]`), 404, "*")
	h.expect(h.do("POST", "/echo/000/s1/xhr_send", `["x`), 500, "Broken JSON encoding.\n")
	h.expect(h.do("POST", "/echo/000/s1/xhr_send", ``), 500, "Payload expected.\n")
	for _, ct := range []string{"text/plain", "T", "application/json", "application/xml", ""} {
		h.expect(h.do("POST", "/echo/000/s1/xhr_send", `["b"]`, "Content-Type", ct), 204, "")
	}
	time.Sleep(20 * time.Millisecond) // the echoes reach the queue
	h.expect(h.do("POST", "/echo/000/s1/xhr", ""), 200, `a["b","b","b","b","b"]`+"\n")

	// Two receiving connections: the second is told off; the first keeps
	// the session.
	held := make(chan sjResponse, 1)
	go func() { held <- h.do("POST", "/echo/000/s1/xhr", "") }()
	time.Sleep(50 * time.Millisecond)
	h.expect(h.do("POST", "/echo/000/s1/xhr", ""), 200, `c[2010,"Another connection still open"]`+"\n")
	h.do("POST", "/echo/000/s1/xhr_send", `["c"]`)
	h.expect(<-held, 200, `a["c"]`+"\n")

	r = h.do("OPTIONS", "/echo/abc/abc/xhr", "", "Origin", h.ts.URL, "Access-Control-Request-Headers", "a, b, c")
	if r.code != 204 || r.hdr.Get("Access-Control-Allow-Methods") != "OPTIONS, POST" ||
		r.hdr.Get("Access-Control-Allow-Origin") != h.ts.URL || r.hdr.Get("Access-Control-Allow-Headers") != "a, b, c" {
		t.Fatalf("OPTIONS xhr: %d %v", r.code, r.hdr)
	}
	if r := h.do("POST", "/echo/000/s2/xhr", "", "Origin", "http://evil.example"); r.code != 403 {
		t.Fatalf("cross-origin xhr: %d", r.code)
	}
}

func TestSockJSClose(t *testing.T) {
	h := newSockJSHarness(t)
	h.expect(h.do("POST", "/close/000/c1/xhr", ""), 200, "o\n")
	time.Sleep(20 * time.Millisecond)
	for range 2 { // until the timeout, the close frame again and again
		h.expect(h.do("POST", "/close/000/c1/xhr", ""), 200, `c[3000,"Go away!"]`+"\n")
	}
	h.expect(h.do("GET", "/close/000/c2/jsonp?c=x", ""), 200, `x("o");`+"\r\n")
	time.Sleep(20 * time.Millisecond)
	h.expect(h.do("GET", "/close/000/c2/jsonp?c=x", ""), 200, `x("c[3000,\"Go away!\"]");`+"\r\n")

	// A receiving request cut by the network ends the session; the next
	// request hears why.
	h.expect(h.do("POST", "/echo/000/i1/xhr", ""), 200, "o\n")
	cctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(cctx, "POST", h.ts.URL+"/echo/000/i1/xhr", nil)
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the held poll was not cut")
	}
	time.Sleep(50 * time.Millisecond)
	h.expect(h.do("POST", "/echo/000/i1/xhr", ""), 200, `c[1002,"Connection interrupted"]`+"\n")

	// A session without a receiving connection for DisconnectDelay ends.
	h.expect(h.do("POST", "/echo/000/t1/xhr", ""), 200, "o\n")
	time.Sleep(500 * time.Millisecond)
	h.expect(h.do("POST", "/echo/000/t1/xhr_send", `["a"]`), 404, "*")
}

// stream opens a streaming transport and returns a reader of its body.
func (h *sockjsHarness) stream(method, path string) (*http.Response, *bufio.Reader) {
	h.t.Helper()
	req, _ := http.NewRequest(method, h.ts.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { resp.Body.Close() })
	return resp, bufio.NewReader(resp.Body)
}

func readUntil(t *testing.T, br *bufio.Reader, delim string) string {
	t.Helper()
	var b strings.Builder
	for !strings.HasSuffix(b.String(), delim) {
		c, err := br.ReadByte()
		if err != nil {
			t.Fatalf("after %q: %v", b.String(), err)
		}
		b.WriteByte(c)
	}
	return b.String()
}

func TestSockJSStreaming(t *testing.T) {
	h := newSockJSHarness(t)
	t.Run("xhr_streaming", func(t *testing.T) {
		resp, br := h.stream("POST", "/echo/000/x1/xhr_streaming")
		if ct := resp.Header.Get("Content-Type"); ct != "application/javascript; charset=UTF-8" {
			t.Fatalf("content type %q", ct)
		}
		if got := readUntil(t, br, "\n"); got != strings.Repeat("h", 2048)+"\n" {
			t.Fatalf("prelude of %d bytes", len(got))
		}
		if got := readUntil(t, br, "\n"); got != "o\n" {
			t.Fatalf("open %q", got)
		}
		h.expect(h.do("POST", "/echo/000/x1/xhr_streaming", ""), 200, strings.Repeat("h", 2048)+"\n"+`c[2010,"Another connection still open"]`+"\n")
		msg := `"` + strings.Repeat("x", 128) + `"`
		for range 31 {
			h.expect(h.do("POST", "/echo/000/x1/xhr_send", "["+msg+"]"), 204, "")
			if got := readUntil(t, br, "\n"); got != "a["+msg+"]\n" {
				t.Fatalf("got %q", got)
			}
		}
		if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
			t.Fatalf("the response did not end at the limit: %q %v", rest, err)
		}
	})
	t.Run("eventsource", func(t *testing.T) {
		_, br := h.stream("GET", "/echo/000/e1/eventsource")
		if got := readUntil(t, br, "\r\n"); got != "\r\n" {
			t.Fatalf("prelude %q", got)
		}
		if got := readUntil(t, br, "\r\n\r\n"); got != "data: o\r\n\r\n" {
			t.Fatalf("open %q", got)
		}
		h.do("POST", "/echo/000/e1/xhr_send", `["  \u0000\n\r "]`)
		if got := readUntil(t, br, "\r\n\r\n"); got != `data: a["  \u0000\n\r "]`+"\r\n\r\n" {
			t.Fatalf("got %q", got)
		}
	})
	t.Run("htmlfile", func(t *testing.T) {
		h.expect(h.do("GET", "/echo/a/a/htmlfile", ""), 500, `"callback" parameter required`+"\n")
		h.expect(h.do("GET", "/echo/a/a/htmlfile?c=alert(1)", ""), 500, `invalid "callback" parameter`+"\n")
		_, br := h.stream("GET", "/echo/000/h1/htmlfile?c=%63allback")
		head := readUntil(t, br, "\r\n\r\n")
		if !strings.Contains(head, "var c = parent.callback;") || len(head) < 1024 {
			t.Fatalf("head %q", head)
		}
		if got := readUntil(t, br, "\r\n"); got != "<script>\np(\"o\");\n</script>\r\n" {
			t.Fatalf("open %q", got)
		}
		h.do("POST", "/echo/000/h1/xhr_send", `["</script><script>alert(1)</script>"]`)
		got := readUntil(t, br, "\r\n")
		if strings.Contains(got, "alert(1)</script>") {
			t.Fatalf("a message closed the script element: %q", got)
		}
		// The frame is a JSON string inside a JavaScript string: the
		// escapes are escaped once more.
		if got != `<script>
p("a[\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\"]");
</script>`+"\r\n" {
			t.Fatalf("got %q", got)
		}
	})
}

func TestSockJSJSONP(t *testing.T) {
	h := newSockJSHarness(t)
	h.expect(h.do("GET", "/echo/a/a/jsonp", ""), 500, `"callback" parameter required`+"\n")
	h.expect(h.do("GET", "/echo/000/j1/jsonp?c=%63allback", ""), 200, `callback("o");`+"\r\n")
	form := "application/x-www-form-urlencoded"
	h.expect(h.do("POST", "/echo/000/j1/jsonp_send", "d=%5B%22x%22%5D", "Content-Type", form), 200, "ok")
	h.expect(h.do("POST", "/echo/000/j1/jsonp_send", "d=%5B%22x", "Content-Type", form), 500, "Broken JSON encoding.\n")
	for _, body := range []string{"", "d=", "p=p"} {
		h.expect(h.do("POST", "/echo/000/j1/jsonp_send", body, "Content-Type", form), 500, "Payload expected.\n")
	}
	h.expect(h.do("POST", "/echo/000/j1/jsonp_send", `["%61bc"]`, "Content-Type", "text/plain"), 200, "ok")
	time.Sleep(20 * time.Millisecond)
	h.expect(h.do("GET", "/echo/000/j1/jsonp?c=callback", ""), 200, `callback("a[\"x\",\"%61bc\"]");`+"\r\n")
}

func TestSockJSWebSocket(t *testing.T) {
	h := newSockJSHarness(t)
	ctx := context.Background()
	dial := func(path string) *ws.Conn {
		c, err := ws.Dial(ctx, "ws"+strings.TrimPrefix(h.ts.URL, "http")+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	read := func(c *ws.Conn) string {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_, b, err := c.ReadMessage(rctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// Two sockets may share a session id: each is its own session.
	c1, c2 := dial("/echo/000/w/websocket"), dial("/echo/000/w/websocket")
	for _, c := range []*ws.Conn{c1, c2} {
		if got := read(c); got != "o" {
			t.Fatalf("open %q", got)
		}
	}
	c1.WriteMessage(ctx, ws.Text, nil) // empty frames are ignored
	c1.WriteMessage(ctx, ws.Text, []byte(`["a"]`))
	c2.WriteMessage(ctx, ws.Text, []byte(`"b"`))
	if got := read(c1); got != `a["a"]` {
		t.Fatalf("c1 %q", got)
	}
	if got := read(c2); got != `a["b"]` {
		t.Fatalf("c2 %q", got)
	}
	c1.WriteMessage(ctx, ws.Text, []byte(`["a`))
	if _, _, err := c1.ReadMessage(ctx, nil); err == nil {
		t.Fatal("broken JSON did not end the socket")
	}
	c3 := dial("/close/000/w/websocket")
	if got := read(c3); got != "o" {
		t.Fatalf("open %q", got)
	}
	if got := read(c3); got != `c[3000,"Go away!"]` {
		t.Fatalf("close frame %q", got)
	}
	raw := dial("/echo/websocket")
	raw.WriteMessage(ctx, ws.Text, []byte("Hello world!\uffff"))
	if got := read(raw); got != "Hello world!\uffff" {
		t.Fatalf("raw %q", got)
	}
	if r := h.do("POST", "/echo/0/0/websocket", ""); r.code != 405 {
		t.Fatalf("POST websocket: %d", r.code)
	}
}

// TestSockJSEscaping: the server escapes what SockJS asks (browsers
// mangle those characters) and the client's escapes decode.
func TestSockJSEscaping(t *testing.T) {
	h := newSockJSHarness(t)
	h.expect(h.do("POST", "/echo/000/u1/xhr", ""), 200, "o\n")
	var in []rune
	for r := rune(0x200c); r <= 0x200f; r++ {
		in = append(in, r)
	}
	in = append(in, 0x2028, 0x202f, 0x2060, 0x206f, 0xfff0, 0xffff, 0x01, 'k', 'é')
	payload, _ := json.Marshal([]string{string(in)})
	h.expect(h.do("POST", "/echo/000/u1/xhr_send", string(payload)), 204, "")
	time.Sleep(20 * time.Millisecond)
	r := h.do("POST", "/echo/000/u1/xhr", "")
	want := `a["\u200c\u200d\u200e\u200f\u2028\u202f\u2060\u206f\ufff0\uffff\u0001ké"]` + "\n"
	if r.body != want {
		t.Fatalf("got %q\nwant %q", r.body, want)
	}
}
