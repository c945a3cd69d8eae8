package comet

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
	"github.com/duplexgo/duplex/ws"
)

// SockJSOptions configure the SockJS dialect of a Server.
type SockJSOptions struct {
	// Heartbeat is how often an idle receiving connection gets an "h"
	// frame (default 25 s).
	Heartbeat time.Duration
	// DisconnectDelay closes a session that has had no receiving
	// connection for this long, and is how long a closed session keeps
	// answering with its close frame (default 5 s).
	DisconnectDelay time.Duration
	// ResponseLimit ends a streaming response after this many bytes, so
	// that the browser can free what it has read; the client reopens it
	// (default 128 KiB).
	ResponseLimit int
	// ClientURL is the sockjs-client script that the iframe page loads
	// (default the jsDelivr copy of sockjs-client 1).
	ClientURL string
	// NoWebSocket turns the WebSocket transports off (and says so in
	// /info), for deployments whose proxies break them.
	NoWebSocket bool
	// CookieNeeded sets a JSESSIONID cookie on session requests, for load
	// balancers that make sessions sticky by it.
	CookieNeeded bool
}

// ErrBinaryUnsupported is returned by SendMessage and SendBinary when the
// session's dialect (SockJS) carries text only.
var ErrBinaryUnsupported = errors.New("comet: the session's dialect carries text only")

// SockJS returns a handler speaking the SockJS protocol (0.3, the one
// sockjs-client 1.x speaks) over the Server's sessions, mounted at prefix
// (such as "/sockjs"; the URL given to sockjs-client). Every transport of
// the protocol is served: websocket, xhr-streaming, xhr-polling,
// eventsource, htmlfile (the forever iframe of SockJS), jsonp-polling,
// the iframe page for cross-domain fallbacks, and raw WebSocket at
// {prefix}/websocket.
//
// SockJS carries text only; sessions refuse binary messages and events
// (ErrBinaryUnsupported, ErrEventUnsupported). Like Engine.IO it has no
// acknowledgements: a message counts as delivered once written, and, as
// the protocol asks, a receiving request cut by the network ends the
// session (the next request is told "Connection interrupted").
//
// Deviation: SockJS servers usually allow every origin. This one keeps
// the Server's policy: same-origin requests, and cross-origin ones only
// from Options.AllowOrigins; requests without an Origin header pass.
func (srv *Server) SockJS(prefix string, opts SockJSOptions) http.Handler {
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 25 * time.Second
	}
	if opts.DisconnectDelay <= 0 {
		opts.DisconnectDelay = 5 * time.Second
	}
	if opts.ResponseLimit <= 0 {
		opts.ResponseLimit = 128 << 10
	}
	if opts.ClientURL == "" {
		opts.ClientURL = "https://cdn.jsdelivr.net/npm/sockjs-client@1/dist/sockjs.min.js"
	}
	h := &sockjsHandler{srv: srv, prefix: strings.TrimSuffix(prefix, "/"), opts: opts, byKey: map[string]*Session{}}
	h.iframe = fmt.Sprintf(sockjsIframe, opts.ClientURL)
	sum := sha256.Sum256([]byte(h.iframe))
	h.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
	return h
}

type sockjsHandler struct {
	srv          *Server
	prefix       string
	opts         SockJSOptions
	iframe, etag string

	byKey map[string]*Session // by the client's session id; under srv.mu
}

// sockjsSession is the SockJS state of a session, under its mutex.
type sockjsSession struct {
	h           *sockjsHandler
	key         string      // the client's session id; "" for WebSocket sessions
	opened      bool        // the open frame went out
	interrupted bool        // a receiving request was cut by the network
	expiry      *time.Timer // DisconnectDelay without a receiving connection
}

func (d *sockjsSession) carries(p *Prepared) error {
	switch {
	case p.msg.Binary:
		return ErrBinaryUnsupported
	case p.msg.Event != "":
		return ErrEventUnsupported
	}
	return nil
}

func (d *sockjsSession) ended(s *Session) {
	if d.expiry != nil {
		d.expiry.Stop()
	}
	if d.key == "" {
		return
	}
	// Keep answering with the close frame for a while, then forget the id.
	time.AfterFunc(d.h.opts.DisconnectDelay, func() {
		d.h.srv.mu.Lock()
		if d.h.byKey[d.key] == s {
			delete(d.h.byKey, d.key)
		}
		d.h.srv.mu.Unlock()
	})
}

func (s *Session) sockjs() *sockjsSession { return s.dialect.(*sockjsSession) }

// closeFrame is what a client asking a closed session hears.
func (s *Session) sockjsCloseFrame() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sockjs().interrupted {
		return `c[1002,"Connection interrupted"]`
	}
	reason := s.reason
	if reason == "" {
		reason = "Go away!"
	}
	enc, _ := json.Marshal(reason)
	return `c[3000,` + string(enc) + `]`
}

// sockjsQuote is a message as a JSON string, with the characters SockJS
// asks servers to escape (browsers mangle them on some transports) as
// \u escapes, besides what encoding/json escapes.
func sockjsQuote(s string) string {
	enc, _ := json.Marshal(s) // HTML-safe: <, >, &, U+2028, U+2029 escaped
	var b strings.Builder
	b.Grow(len(enc))
	for i := 0; i < len(enc); {
		r, n := utf8.DecodeRune(enc[i:])
		if r >= 0x200c && r <= 0x200f || r >= 0x2028 && r <= 0x202f || r >= 0x2060 && r <= 0x206f || r >= 0xfff0 {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.Write(enc[i : i+n])
		}
		i += n
	}
	return b.String()
}

func (p *Prepared) sockjsEncoding() string {
	p.sjOnce.Do(func() { p.sj = sockjsQuote(p.msg.Data) })
	return p.sj
}

// sockjsFrame joins messages into an "a" frame.
func sockjsFrame(msgs []outMsg) string {
	var b strings.Builder
	b.WriteString("a[")
	for i, m := range msgs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(m.p.sockjsEncoding())
	}
	b.WriteByte(']')
	return b.String()
}

// A sockjsTransport frames what a receiving connection sends.
type sockjsTransport struct {
	name        string
	method      string
	contentType string
	streaming   bool
	prelude     func(callback string) string
	frame       func(callback, f string) string
	callback    bool // needs ?c=
}

func jsString(s string) string { enc, _ := json.Marshal(s); return string(enc) }

var sockjsTransports = map[string]*sockjsTransport{
	"xhr": {name: "xhr-polling", method: http.MethodPost, contentType: "application/javascript; charset=UTF-8",
		frame: func(_, f string) string { return f + "\n" }},
	"xhr_streaming": {name: "xhr-streaming", method: http.MethodPost, contentType: "application/javascript; charset=UTF-8", streaming: true,
		prelude: func(string) string { return strings.Repeat("h", 2048) + "\n" },
		frame:   func(_, f string) string { return f + "\n" }},
	"eventsource": {name: "eventsource", method: http.MethodGet, contentType: "text/event-stream; charset=UTF-8", streaming: true,
		prelude: func(string) string { return "\r\n" },
		frame:   func(_, f string) string { return "data: " + f + "\r\n\r\n" }},
	"htmlfile": {name: "htmlfile", method: http.MethodGet, contentType: "text/html; charset=UTF-8", streaming: true, callback: true,
		prelude: func(c string) string {
			head := fmt.Sprintf(sockjsHTMLFile, c)
			return head + strings.Repeat(" ", max(1024-len(head), 0)+14) + "\r\n\r\n"
		},
		frame: func(_, f string) string { return "<script>\np(" + jsString(f) + ");\n</script>\r\n" }},
	"jsonp": {name: "jsonp-polling", method: http.MethodGet, contentType: "application/javascript; charset=UTF-8", callback: true,
		frame: func(c, f string) string { return c + "(" + jsString(f) + ");\r\n" }},
}

const sockjsHTMLFile = `<!doctype html>
<html><head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
</head><body><h2>Don't panic!</h2>
  <script>
    document.domain = document.domain;
    var c = parent.%s;
    c.start();
    function p(d) {c.message(d);};
    window.onload = function() {c.stop();};
  </script>`

const sockjsIframe = `<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge" />
  <meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
  <script>
    document.domain = document.domain;
    _sockjs_onload = function(){SockJS.bootstrap_iframe();};
  </script>
  <script src="%s"></script>
</head>
<body>
  <h2>Don't panic!</h2>
  <p>This is a SockJS hidden iframe. It's used for cross domain magic.</p>
</body>
</html>`

// validCallback accepts JSONP and htmlfile callback names that cannot
// inject script: letters, digits, '_', '-' and '.'.
func validCallback(c string) bool {
	if c == "" || len(c) > 64 {
		return false
	}
	for i := 0; i < len(c); i++ {
		b := c[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-' || b == '.') {
			return false
		}
	}
	return true
}

func (h *sockjsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, h.prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if !h.cors(w, r) {
		return
	}
	switch {
	case rest == "" || rest == "/":
		if r.Method != http.MethodGet {
			sockjs405(w, "GET")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		io.WriteString(w, "Welcome to SockJS!\n")
	case rest == "/info":
		h.info(w, r)
	case strings.HasPrefix(rest, "/iframe") && strings.HasSuffix(rest, ".html") && validCallback(rest[1:]):
		h.iframePage(w, r)
	case rest == "/websocket":
		h.websocket(w, r, false)
	default:
		parts := strings.Split(strings.TrimPrefix(rest, "/"), "/")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || strings.Contains(parts[0], ".") || strings.Contains(parts[1], ".") {
			http.NotFound(w, r)
			return
		}
		h.session(w, r, parts[1], parts[2])
	}
}

// cors applies the Server's origin policy in SockJS's terms (credentials
// allowed, "*" for requests without an Origin) and answers preflights.
func (h *sockjsHandler) cors(w http.ResponseWriter, r *http.Request) bool {
	hd := w.Header()
	origin := r.Header.Get("Origin")
	switch {
	case origin == "":
		hd.Set("Access-Control-Allow-Origin", "*")
	case sameOrigin(origin, r.Host) || h.srv.allowedCORS(origin):
		hd.Set("Access-Control-Allow-Origin", origin)
		hd.Set("Vary", "Origin")
	default:
		http.Error(w, "cross-origin request not allowed", http.StatusForbidden)
		return false
	}
	hd.Set("Access-Control-Allow-Credentials", "true")
	if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		hd.Set("Access-Control-Allow-Headers", rh)
	}
	return true
}

func sockjs405(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	w.WriteHeader(http.StatusMethodNotAllowed)
}

// preflight answers OPTIONS: cacheable for a year.
func preflight(w http.ResponseWriter, methods string) {
	hd := w.Header()
	hd.Set("Cache-Control", "public, max-age=31536000")
	hd.Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
	hd.Set("Access-Control-Max-Age", "31536000")
	hd.Set("Access-Control-Allow-Methods", methods)
	w.WriteHeader(http.StatusNoContent)
}

func noCache(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

func (h *sockjsHandler) info(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodOptions:
		preflight(w, "OPTIONS, GET")
		return
	case http.MethodGet:
	default:
		sockjs405(w, "OPTIONS, GET")
		return
	}
	var e [4]byte
	rand.Read(e[:])
	noCache(w)
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	fmt.Fprintf(w, `{"websocket":%t,"cookie_needed":%t,"origins":["*:*"],"entropy":%d}`,
		!h.opts.NoWebSocket, h.opts.CookieNeeded, binary.BigEndian.Uint32(e[:]))
}

func (h *sockjsHandler) iframePage(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "public, max-age=31536000")
	hd.Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
	hd.Set("ETag", h.etag)
	if r.Header.Get("If-None-Match") == h.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", "text/html; charset=UTF-8")
	io.WriteString(w, h.iframe)
}

func (h *sockjsHandler) cookie(w http.ResponseWriter, r *http.Request) {
	if !h.opts.CookieNeeded {
		return
	}
	v := "dummy"
	if c, err := r.Cookie("JSESSIONID"); err == nil {
		v = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: "JSESSIONID", Value: v, Path: "/"})
}

// session serves /{server}/{session}/{transport}.
func (h *sockjsHandler) session(w http.ResponseWriter, r *http.Request, key, transport string) {
	switch transport {
	case "websocket":
		h.websocket(w, r, true)
		return
	case "xhr_send", "jsonp_send":
		if r.Method == http.MethodOptions && transport == "xhr_send" {
			preflight(w, "OPTIONS, POST")
			return
		}
		if r.Method != http.MethodPost {
			sockjs405(w, "OPTIONS, POST")
			return
		}
		h.send(w, r, key, transport == "jsonp_send")
		return
	}
	t := sockjsTransports[transport]
	if t == nil {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodOptions && t.method == http.MethodPost {
		preflight(w, "OPTIONS, POST")
		return
	}
	if r.Method != t.method {
		sockjs405(w, "OPTIONS, "+t.method)
		return
	}
	h.receive(w, r, key, t)
}

// find returns the session of a client's id, creating it when create is
// set and the id is new.
func (h *sockjsHandler) find(r *http.Request, key string, create bool) (s *Session, tooMany bool) {
	srv := h.srv
	srv.mu.Lock()
	s = h.byKey[key]
	srv.mu.Unlock()
	if s != nil || !create {
		return s, false
	}
	d := &sockjsSession{h: h, key: key}
	s, err := srv.newSession(r, d)
	if err != nil {
		return nil, true
	}
	srv.mu.Lock()
	if other := h.byKey[key]; other != nil { // created meanwhile by a request racing this one
		srv.mu.Unlock()
		s.Close("duplicate")
		return other, false
	}
	h.byKey[key] = s
	srv.mu.Unlock()
	return s, false
}

// receive serves a receiving connection: a poll answers with the open
// frame, the close frame, or the messages due; a stream sends them as
// they come until the response limit.
func (h *sockjsHandler) receive(w http.ResponseWriter, r *http.Request, key string, t *sockjsTransport) {
	var callback string
	if t.callback {
		callback = r.URL.Query().Get("c")
		if callback == "" {
			http.Error(w, `"callback" parameter required`, http.StatusInternalServerError)
			return
		}
		if !validCallback(callback) {
			http.Error(w, `invalid "callback" parameter`, http.StatusInternalServerError)
			return
		}
	}
	s, full := h.find(r, key, true)
	if full {
		tooMany(w)
		return
	}
	if !s.sameOrigin(r) {
		http.Error(w, "session belongs to another origin", http.StatusForbidden)
		return
	}
	h.srv.active.Add(1)
	defer h.srv.active.Add(-1)
	h.cookie(w, r)
	noCache(w)
	w.Header().Set("Content-Type", t.contentType)
	w.Header().Set("X-Accel-Buffering", "no")
	rc := http.NewResponseController(w)
	written := 0
	write := func(f string) bool {
		out := t.frame(callback, f)
		written += len(out)
		_, err := io.WriteString(w, out)
		return err == nil && rc.Flush() == nil
	}
	if t.prelude != nil {
		io.WriteString(w, t.prelude(callback))
	}

	d := s.sockjs()
	s.mu.Lock()
	closed := s.isClosed()
	busy := s.poll != nil
	first := !d.opened
	d.opened = true
	var mine chan struct{}
	if !closed && !busy {
		mine = make(chan struct{})
		s.poll, s.transport, s.lastSeen = mine, t.name, time.Now()
		if d.expiry != nil {
			d.expiry.Stop()
		}
	}
	s.mu.Unlock()
	if mine != nil {
		defer h.release(s, mine)
	}
	// A new session's first frame is always the open frame, even when the
	// application has closed it already (the close frame comes next).
	if first && (!write("o") || !t.streaming) {
		return
	}
	switch {
	case closed:
		write(s.sockjsCloseFrame())
		return
	case busy:
		write(`c[2010,"Another connection still open"]`)
		return
	}
	hb := time.NewTicker(h.opts.Heartbeat)
	defer hb.Stop()
	var msgs []outMsg // reused between wake-ups
	for {
		s.mu.Lock()
		msgs = s.pendingLocked(0, msgs)
		s.mu.Unlock()
		if len(msgs) > 0 {
			ok := write(sockjsFrame(msgs))
			if ok {
				s.mu.Lock()
				s.ackLocked(msgs[len(msgs)-1].seq)
				s.mu.Unlock()
			}
			if !ok || !t.streaming || written >= h.opts.ResponseLimit {
				return
			}
			continue
		}
		select {
		case <-s.notify:
		case <-hb.C:
			if !write("h") {
				return
			}
		case <-s.closed:
			write(s.sockjsCloseFrame())
			return
		case <-r.Context().Done():
			// The protocol: a receiving request cut by the network ends
			// the session; messages may have been lost.
			s.mu.Lock()
			d.interrupted = true
			s.mu.Unlock()
			s.Close("connection interrupted")
			return
		}
	}
}

// release ends a receiving connection's hold and starts the disconnect
// delay.
func (h *sockjsHandler) release(s *Session, mine chan struct{}) {
	s.release(mine)
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.sockjs()
	if s.poll != nil || s.isClosed() {
		return
	}
	if d.expiry == nil {
		d.expiry = time.AfterFunc(h.opts.DisconnectDelay, func() {
			s.mu.Lock()
			idle := s.poll == nil
			s.mu.Unlock()
			if idle {
				s.Close("disconnected")
			}
		})
	} else {
		d.expiry.Reset(h.opts.DisconnectDelay)
	}
}

func (s *Session) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

// send takes xhr_send and jsonp_send bodies: a JSON array of strings.
func (h *sockjsHandler) send(w http.ResponseWriter, r *http.Request, key string, jsonp bool) {
	s, _ := h.find(r, key, false)
	if s == nil || s.isClosed() {
		http.NotFound(w, r)
		return
	}
	if !s.sameOrigin(r) {
		http.Error(w, "session belongs to another origin", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.srv.opts.MaxBodyBytes))
	if err != nil {
		http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
		return
	}
	if jsonp && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		form, _ := url.ParseQuery(string(body))
		body = []byte(form.Get("d"))
	}
	h.cookie(w, r)
	noCache(w)
	if len(body) == 0 {
		http.Error(w, "Payload expected.", http.StatusInternalServerError)
		return
	}
	var msgs []string
	if json.Unmarshal(body, &msgs) != nil {
		http.Error(w, "Broken JSON encoding.", http.StatusInternalServerError)
		return
	}
	s.mu.Lock()
	s.lastSeen = time.Now()
	s.mu.Unlock()
	for _, m := range msgs {
		if err := s.push(r.Context(), Message{Data: m}); err != nil {
			http.NotFound(w, r)
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	if jsonp {
		io.WriteString(w, "ok")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// websocket serves a session over WebSocket: framed (o, a, h, c frames;
// the client sends a JSON string or array of strings), or raw at
// {prefix}/websocket (each message as it is). A WebSocket session lives
// as long as its connection.
func (h *sockjsHandler) websocket(w http.ResponseWriter, r *http.Request, framed bool) {
	if r.Method != http.MethodGet {
		sockjs405(w, "GET")
		return
	}
	if h.opts.NoWebSocket {
		http.NotFound(w, r)
		return
	}
	c, err := ws.Upgrade(w, r, &ws.ServerOptions{
		Upgrader: handshake.Upgrader{InsecureSkipOriginCheck: true}, // cors has checked it
		Options: ws.Options{
			ReadLimit:   h.srv.opts.MaxBodyBytes,
			Compression: &ws.CompressionOptions{NoContextTakeover: true},
		},
	})
	if err != nil {
		return
	}
	s, err := h.srv.newSession(r, &sockjsSession{h: h})
	if err != nil {
		c.Close(frame.CloseTryAgainLater, "too many sessions")
		c.CloseNow()
		return
	}
	h.srv.afterHijack(func(ctx context.Context) { h.wsSession(ctx, c, s, framed) })
}

// wsSession carries s over c for the connection's life.
func (h *sockjsHandler) wsSession(ctx context.Context, c *ws.Conn, s *Session, framed bool) {
	defer c.CloseNow()
	defer s.Close("connection closed")
	send := func(f string) bool { return c.WriteMessage(ctx, ws.Text, []byte(f)) == nil }
	if framed && !send("o") {
		return
	}
	mine := make(chan struct{})
	s.mu.Lock()
	s.poll, s.transport, s.sockjs().opened = mine, "websocket", true
	s.mu.Unlock()
	readDone := make(chan error, 1)
	go func() { readDone <- h.wsRead(ctx, c, s, framed) }()
	hb := time.NewTicker(h.opts.Heartbeat)
	defer hb.Stop()
	var msgs []outMsg // reused between wake-ups
	for {
		s.mu.Lock()
		msgs = s.pendingLocked(0, msgs)
		s.mu.Unlock()
		if len(msgs) > 0 {
			if framed {
				if !send(sockjsFrame(msgs)) {
					return
				}
			} else {
				for _, m := range msgs {
					if !send(m.p.msg.Data) {
						return
					}
				}
			}
			s.mu.Lock()
			s.ackLocked(msgs[len(msgs)-1].seq)
			s.mu.Unlock()
			continue
		}
		select {
		case <-s.notify:
		case <-hb.C:
			if framed && !send("h") {
				return
			}
		case <-s.closed:
			if framed {
				send(s.sockjsCloseFrame())
			}
			c.Close(frame.CloseGoingAway, s.reason)
			return
		case <-readDone:
			return
		}
	}
}

// wsRead hands the client's messages to the session; broken JSON on the
// framed socket ends it abruptly, as the protocol asks.
func (h *sockjsHandler) wsRead(ctx context.Context, c *ws.Conn, s *Session, framed bool) error {
	for {
		_, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			return err
		}
		if !framed {
			if err := s.push(ctx, Message{Data: string(msg)}); err != nil {
				return err
			}
			continue
		}
		if len(msg) == 0 {
			continue // empty frames are ignored
		}
		var msgs []string
		if msg[0] == '"' {
			msgs = make([]string, 1)
			err = json.Unmarshal(msg, &msgs[0])
		} else {
			err = json.Unmarshal(msg, &msgs)
		}
		if err != nil {
			c.CloseNow()
			return err
		}
		for _, m := range msgs {
			if err := s.push(ctx, Message{Data: m}); err != nil {
				return err
			}
		}
	}
}
