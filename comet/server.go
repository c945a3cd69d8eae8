package comet

import (
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/ws"
)

// clientJS is the browser client, served at {prefix}/client.js.
//
//go:embed client.js
var clientJS []byte

// Options configure a Server. Zero fields take the defaults.
type Options struct {
	// MaxSessions bounds live sessions and plain WebSocket connections
	// (WebSocketHandler) together; beyond it an HTTP request gets 503 with
	// Retry-After and a WebSocket is closed with 1013 Try Again Later
	// (default 10,000).
	MaxSessions    int
	QueueLen       int           // unacknowledged outbound messages per session (default 256)
	InboundLen     int           // client messages waiting for Receive (default 256)
	BlockWhenFull  bool          // Send waits for room instead of failing with ErrQueueFull
	PollTimeout    time.Duration // a long poll with nothing to deliver answers empty after this (default 25 s)
	SessionTimeout time.Duration // a session with no request for this long expires (default 60 s)
	Heartbeat      time.Duration // SSE comment heartbeat interval (default 15 s)
	MaxBodyBytes   int64         // largest POST body; larger get 413 (default 64 KiB)
	// AllowOrigins lists origins (scheme://host[:port]) allowed to call
	// from other sites (CORS). Empty: same-origin only.
	AllowOrigins []string
}

func (o Options) withDefaults() Options {
	if o.MaxSessions <= 0 {
		o.MaxSessions = 10000
	}
	if o.QueueLen <= 0 {
		o.QueueLen = 256
	}
	if o.InboundLen <= 0 {
		o.InboundLen = 256
	}
	if o.PollTimeout <= 0 {
		o.PollTimeout = 25 * time.Second
	}
	if o.SessionTimeout <= 0 {
		o.SessionTimeout = 60 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	return o
}

// Server serves comet sessions under a path prefix (the pattern it is
// mounted at, such as "/comet/"). OnSession runs in its own goroutine for
// every new session.
type Server struct {
	opts      Options
	OnSession func(*Session)

	mu       sync.Mutex
	sessions map[string]*Session
	gone     map[string]time.Time // closed or expired ids, for 410, until the time given
	sweeper  *time.Timer
	closing  bool                            // Shutdown has begun
	reason   string                          // Shutdown's reason
	sockets  map[*ws.Conn]context.CancelFunc // plain WebSockets of WebSocketHandler
	active   atomic.Int64                    // requests holding a session (polls, streams, sockets)
}

// NewServer returns a Server with opts.
func NewServer(opts Options, onSession func(*Session)) *Server {
	return &Server{
		opts: opts.withDefaults(), OnSession: onSession, sessions: map[string]*Session{},
		gone: map[string]time.Time{}, sockets: map[*ws.Conn]context.CancelFunc{},
	}
}

// Len returns the number of live sessions.
func (srv *Server) Len() int {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return len(srv.sessions)
}

// Stats counts what a Server holds.
type Stats struct {
	Sessions    int            // live sessions, every dialect
	WebSockets  int            // plain WebSocket connections (WebSocketHandler)
	ByTransport map[string]int // sessions by the transport that last carried them ("" before the first)
}

// Stats returns the Server's counts: its sessions by transport and its
// plain WebSocket connections, the registry MaxSessions limits.
func (srv *Server) Stats() Stats {
	srv.mu.Lock()
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	st := Stats{Sessions: len(all), WebSockets: len(srv.sockets), ByTransport: map[string]int{}}
	srv.mu.Unlock()
	for _, s := range all {
		st.ByTransport[s.Transport()]++
	}
	return st
}

func (srv *Server) remove(s *Session) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.sessions[s.id] == s {
		delete(srv.sessions, s.id)
		srv.gone[s.id] = time.Now().Add(srv.opts.SessionTimeout)
	}
}

// sweep expires idle sessions and forgets old tombstones. It runs as a
// timer while there are sessions or tombstones.
func (srv *Server) sweep() {
	now := time.Now()
	var idle []*Session
	srv.mu.Lock()
	for _, s := range srv.sessions {
		s.mu.Lock()
		if s.poll == nil && now.Sub(s.lastSeen) > srv.opts.SessionTimeout {
			idle = append(idle, s)
		}
		s.mu.Unlock()
	}
	for id, until := range srv.gone {
		if now.After(until) {
			delete(srv.gone, id)
		}
	}
	srv.mu.Unlock()
	for _, s := range idle {
		s.Close("expired")
	}
	srv.mu.Lock()
	if len(srv.sessions) > 0 || len(srv.gone) > 0 {
		srv.sweeper.Reset(srv.opts.SessionTimeout / 4)
	} else {
		srv.sweeper = nil
	}
	srv.mu.Unlock()
}

// Shutdown closes every session and plain WebSocket, telling each client
// in its transport's terms (a held poll answers with closed set, a stream
// gets its closing event, a WebSocket a 1001 Close), then waits until
// those answers have been written and the handlers of WebSocketHandler
// have returned, or ctx ends. Later sessions and sockets are refused.
func (srv *Server) Shutdown(ctx context.Context, reason string) error {
	srv.mu.Lock()
	srv.closing, srv.reason = true, reason
	all := make([]*Session, 0, len(srv.sessions))
	for _, s := range srv.sessions {
		all = append(all, s)
	}
	for c, cancel := range srv.sockets {
		cancel()
		go c.Close(frame.CloseGoingAway, reason)
	}
	srv.mu.Unlock()
	for _, s := range all {
		s.Close(reason)
	}
	for srv.active.Load() > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// ServeHTTP dispatches on the last path element: open, poll, send, sse,
// stream (XHR streaming), iframe (the forever iframe), ws, client.js.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !srv.checkOrigin(w, r) {
		return
	}
	h := w.Header()
	op := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	switch op {
	case "client.js":
		h.Set("Content-Type", "text/javascript; charset=utf-8")
		w.Write(clientJS)
	case "open":
		if !method(w, r, http.MethodPost) {
			return
		}
		srv.open(w, r)
	case "poll", "sse", "stream", "iframe", "send", "ws":
		want := http.MethodGet
		if op == "send" {
			want = http.MethodPost
		}
		if !method(w, r, want) {
			return
		}
		s, ok := srv.lookup(w, r)
		if !ok {
			return
		}
		srv.active.Add(1)
		defer srv.active.Add(-1)
		switch op {
		case "poll":
			srv.poll(w, r, s)
		case "sse":
			srv.stream(w, r, s, "sse", sseFormat)
		case "stream":
			srv.stream(w, r, s, "stream", ndjsonFormat)
		case "iframe":
			srv.stream(w, r, s, "iframe", iframeFormat)
		case "ws":
			srv.websocket(w, r, s)
		default:
			srv.send(w, r, s)
		}
	default:
		http.NotFound(w, r)
	}
}

// checkOrigin sets the headers every answer carries and applies the
// origin policy: same-origin requests pass, cross-origin ones only from
// Options.AllowOrigins (CORS, preflights answered here), others get 403.
// It reports whether the request should be served.
func (srv *Server) checkOrigin(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	origin := r.Header.Get("Origin")
	if origin != "" && srv.allowedCORS(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Set("Vary", "Origin")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Content-Type, Last-Event-ID")
			w.WriteHeader(http.StatusNoContent)
			return false
		}
	} else if origin != "" && !sameOrigin(origin, r.Host) {
		http.Error(w, "cross-origin request not allowed", http.StatusForbidden)
		return false
	}
	return true
}

func method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method != want {
		w.Header().Set("Allow", want)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	return true
}

func (srv *Server) allowedCORS(origin string) bool {
	for _, o := range srv.opts.AllowOrigins {
		if strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

func sameOrigin(origin, host string) bool {
	_, rest, ok := strings.Cut(origin, "://")
	return ok && strings.EqualFold(rest, host)
}

func (srv *Server) open(w http.ResponseWriter, r *http.Request) {
	s, err := srv.newSession(r, nil)
	if err != nil {
		tooMany(w)
		return
	}
	writeJSON(w, map[string]any{
		"id": s.id, "pollTimeoutMs": srv.opts.PollTimeout.Milliseconds(), "heartbeatMs": srv.opts.Heartbeat.Milliseconds(),
	})
}

// errTooMany is newSession's answer at Options.MaxSessions.
var errTooMany = errors.New("comet: too many sessions")

func tooMany(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "5")
	http.Error(w, "too many sessions", http.StatusServiceUnavailable)
}

// newSession registers a session for the client of r, speaking the duplex
// dialect (d nil) or another, and starts OnSession.
func (srv *Server) newSession(r *http.Request, d dialect) (*Session, error) {
	s := &Session{
		id: newID(), origin: r.Header.Get("Origin"), srv: srv, lastSeen: time.Now(), dialect: d,
		notify: make(chan struct{}, 1), inWake: make(chan struct{}, 1), inRoom: make(chan struct{}, 1), closed: make(chan struct{}),
	}
	srv.mu.Lock()
	if srv.closing || len(srv.sessions)+len(srv.sockets) >= srv.opts.MaxSessions {
		srv.mu.Unlock()
		return nil, errTooMany
	}
	srv.sessions[s.id] = s
	if srv.sweeper == nil {
		srv.sweeper = time.AfterFunc(srv.opts.SessionTimeout/4, srv.sweep)
	}
	srv.mu.Unlock()
	if st, ok := d.(interface{ start(*Session) }); ok {
		st.start(s)
	}
	if srv.OnSession != nil {
		go srv.OnSession(s)
	}
	return s, nil
}

// find returns the live session with id, or reports whether the id
// belonged to one that has ended.
func (srv *Server) find(id string) (s *Session, gone bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	s = srv.sessions[id]
	_, gone = srv.gone[id]
	return s, gone
}

// lookup finds the session of a request: 404 for an id never seen (or
// one of another dialect's sessions), 410 for one closed or expired, 403
// when the Origin differs from the one that opened it.
func (srv *Server) lookup(w http.ResponseWriter, r *http.Request) (*Session, bool) {
	s, gone := srv.find(r.URL.Query().Get("id"))
	switch {
	case s != nil && s.dialect == nil:
	case gone:
		http.Error(w, "session closed or expired", http.StatusGone)
		return nil, false
	default:
		http.Error(w, "unknown session", http.StatusNotFound)
		return nil, false
	}
	if !s.sameOrigin(r) {
		http.Error(w, "session belongs to another origin", http.StatusForbidden)
		return nil, false
	}
	return s, true
}

// sameOrigin reports whether r may use the session: its Origin, when it
// sends one, is the one that opened the session. A session opened by a
// request without an Origin (browsers omit it on same-origin GETs, such
// as an EventSource's or an iframe's) is bound to the first Origin that
// comes; the origin policy (checkOrigin) has already admitted it.
func (s *Session) sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.origin == "" {
		s.origin = o
	}
	return o == s.origin
}

// ackParam reads the client's acknowledgement: everything up to and
// including it was received.
func ackParam(r *http.Request) (uint64, bool) {
	v := r.URL.Query().Get("ack")
	if v == "" {
		v = r.Header.Get("Last-Event-ID")
	}
	if v == "" {
		return 0, true
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

// inMsg is a client message of the duplex dialect, decoded from
// {"seq": n, "data": "…"} with "binary": true (data in base64) and
// "event": "name" optional.
type inMsg struct {
	Seq uint64
	Message
}

// UnmarshalJSON decodes one client message, checking that binary data is
// base64.
func (m *inMsg) UnmarshalJSON(b []byte) error {
	var w struct {
		Seq    uint64  `json:"seq"`
		Data   *string `json:"data"`
		Binary bool    `json:"binary"`
		Event  string  `json:"event"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Data == nil {
		return errors.New("comet: message without data")
	}
	*m = inMsg{Seq: w.Seq, Message: Message{Data: *w.Data, Binary: w.Binary, Event: w.Event}}
	if w.Binary {
		raw, err := base64.StdEncoding.DecodeString(*w.Data)
		if err != nil {
			return err
		}
		m.Data = string(raw)
	}
	return nil
}

// poll answers at once when messages after ack are queued (all of them,
// batched), and otherwise holds the request until one is, the poll times
// out (an empty answer) or a newer poll for the session arrives (the older
// is answered empty). wait=0 makes it a short poll.
func (srv *Server) poll(w http.ResponseWriter, r *http.Request, s *Session) {
	ack, ok := ackParam(r)
	if !ok {
		http.Error(w, "bad ack", http.StatusBadRequest)
		return
	}
	short := r.URL.Query().Get("wait") == "0"
	mine, detach := s.attach("poll", ack) // the older of two polls is answered and ends
	defer detach()
	timer := time.NewTimer(srv.opts.PollTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		msgs := s.pendingLocked(ack, nil)
		s.mu.Unlock()
		if len(msgs) > 0 || short {
			writePoll(w, msgs, false)
			return
		}
		select {
		case <-s.notify:
		case <-mine:
			writePoll(w, nil, false)
			return
		case <-s.closed:
			writePoll(w, nil, true)
			return
		case <-timer.C:
			writePoll(w, nil, false)
			return
		case <-r.Context().Done():
			return
		}
	}
}

func writePoll(w http.ResponseWriter, msgs []outMsg, closed bool) {
	b := []byte(`{"messages":[`)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendWire(b, m)
	}
	b = append(b, `],"closed":`...)
	b = strconv.AppendBool(b, closed)
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(b, '}', '\n'))
}

// appendWire appends {"seq":n,"data":…} with the message's prepared
// encoding.
func appendWire(b []byte, m outMsg) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendUint(b, m.seq, 10)
	b = append(b, m.p.native...)
	return append(b, '}')
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// send takes client messages (a JSON array of {seq, data}) and an
// optional ack of server messages.
func (srv *Server) send(w http.ResponseWriter, r *http.Request, s *Session) {
	ack, ok := ackParam(r)
	if !ok {
		http.Error(w, "bad ack", http.StatusBadRequest)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, srv.opts.MaxBodyBytes)
	var msgs []inMsg
	if err := json.NewDecoder(r.Body).Decode(&msgs); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "body is not a JSON array of {seq, data}", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.ackLocked(ack)
	s.lastSeen = time.Now()
	s.mu.Unlock()
	if !s.deliver(msgs) {
		s.mu.Lock()
		next := s.inSeq + 1
		s.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "{\"next\":%d}\n", next)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// streamFormat is how a streaming transport frames what it sends.
type streamFormat struct {
	contentType string
	preamble    string                          // written once, before anything else
	event       func(b []byte, m outMsg) []byte // appends one message
	heartbeat   string                          // written when idle
	closing     func(reason string) string      // the last words when the session ends
}

var (
	// Server-Sent Events: id on every event (the seq), the message as a
	// JSON object without its seq as data (one line whatever the message
	// holds), comment heartbeats.
	sseFormat = streamFormat{
		contentType: "text/event-stream; charset=utf-8",
		preamble:    "retry: 1000\n\n", // how soon EventSource reconnects
		event: func(b []byte, m outMsg) []byte {
			b = append(b, "id: "...)
			b = strconv.AppendUint(b, m.seq, 10)
			b = append(b, "\ndata: {"...)
			b = append(b, m.p.native[1:]...)
			return append(b, "}\n\n"...)
		},
		heartbeat: ": hb\n\n",
		closing:   func(reason string) string { return "event: close\ndata: " + sseLine(reason) + "\n\n" },
	}
	// XHR streaming: newline-delimited JSON objects read from a fetch or
	// XHR body as they arrive; blank lines are heartbeats. A first line
	// of 2 KiB of spaces gets the stream past proxies and old browsers
	// that buffer the start of a response.
	ndjsonFormat = streamFormat{
		contentType: "application/x-ndjson; charset=utf-8",
		preamble:    strings.Repeat(" ", 2048) + "\n",
		event: func(b []byte, m outMsg) []byte {
			return append(appendWire(b, m), '\n')
		},
		heartbeat: "\n",
		closing: func(reason string) string {
			enc, _ := json.Marshal(map[string]string{"closed": reason})
			return string(enc) + "\n"
		},
	}
	// The forever iframe: an HTML document that never ends, each message
	// a <script> calling parent.duplexComet with the frame's name (the
	// client names each frame, so one page can hold several sessions)
	// and the message. encoding/json escapes <, >, &, U+2028 and U+2029,
	// so no message can end the script element or the string early. The
	// first script tells the client the stream is open; the padding
	// makes old browsers start rendering.
	iframeFormat = streamFormat{
		contentType: "text/html; charset=utf-8",
		preamble: "<!doctype html><html><body>" + iframeCall + `{"open":true})</script>` +
			strings.Repeat(" ", 1024) + "\n",
		event: func(b []byte, m outMsg) []byte {
			b = append(b, iframeCall...)
			b = appendWire(b, m)
			return append(b, ")</script>\n"...)
		},
		// A script, not a comment, so that the client sees the stream is
		// alive: browsers fire no event when a forever iframe's
		// connection breaks.
		heartbeat: iframeCall + `{"hb":true})</script>` + "\n",
		closing: func(reason string) string {
			enc, _ := json.Marshal(map[string]string{"closed": reason})
			return iframeCall + string(enc) + ")</script></body></html>\n"
		},
	}
)

// iframeCall starts each script of the forever iframe.
const iframeCall = "<script>parent.duplexComet(window.name,"

// stream sends the messages after the client's acknowledgement (ack, or
// Last-Event-ID for SSE) as they are queued, in format f, until the
// client goes, the session ends, or another transport takes it over.
func (srv *Server) stream(w http.ResponseWriter, r *http.Request, s *Session, name string, f streamFormat) {
	after, ok := ackParam(r)
	if !ok {
		http.Error(w, "bad ack or Last-Event-ID", http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("X-Accel-Buffering", "no") // ask proxies not to buffer the stream
	w.WriteHeader(http.StatusOK)
	mine, detach := s.attach(name, after)
	defer detach()
	io.WriteString(w, f.preamble)
	rc.Flush()
	hb := time.NewTicker(srv.opts.Heartbeat)
	defer hb.Stop()
	var b []byte
	var msgs []outMsg // reused between wake-ups
	for {
		s.mu.Lock()
		msgs = s.pendingLocked(after, msgs)
		s.mu.Unlock()
		if len(msgs) > 0 {
			b = b[:0]
			for _, m := range msgs {
				b = f.event(b, m)
				after = m.seq
			}
			if _, err := w.Write(b); err != nil || rc.Flush() != nil {
				return
			}
			continue
		}
		select {
		case <-s.notify:
		case <-hb.C:
			if _, err := io.WriteString(w, f.heartbeat); err != nil || rc.Flush() != nil {
				return
			}
		case <-mine:
			return
		case <-s.closed:
			io.WriteString(w, f.closing(s.reason))
			rc.Flush()
			return
		case <-r.Context().Done():
			return
		}
	}
}

func sseLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
