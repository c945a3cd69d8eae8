package comet

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
	"github.com/duplexgo/duplex/ws"
)

// EngineIOOptions configure the Engine.IO dialect of a Server.
type EngineIOOptions struct {
	// SocketIO speaks Socket.IO v5 on top of Engine.IO v4, for
	// socket.io-client; mount the handler at "/socket.io/". Otherwise the
	// handler speaks plain Engine.IO v4 (engine.io-client, "/engine.io/").
	SocketIO bool
	// PingInterval is how often the server pings; PingTimeout how long it
	// waits for the pong before closing the session. Both are sent to the
	// client in the handshake (defaults 25 s and 20 s).
	PingInterval, PingTimeout time.Duration
	// MaxPayload bounds a POST body and a WebSocket message (default:
	// the Server's MaxBodyBytes). Larger POSTs get 413.
	MaxPayload int64
}

// EngineIO returns a handler speaking Engine.IO v4 (and, with
// opts.SocketIO, Socket.IO v5) over the Server's sessions: the same
// registry, limits, Hub and Shutdown as the duplex dialect, so that
// clients people already ship (engine.io-client, socket.io-client) and
// duplex's own client are served side by side.
//
// Transports: HTTP long-polling (packets separated by U+001E, binary as
// "b" and base64) and WebSocket, with the protocol's upgrade (probe
// "2probe"/"3probe", the pending poll ended with a noop, then "5") and
// the server's heartbeat (ping every PingInterval, the session closed
// when no pong comes within PingTimeout).
//
// Engine.IO has no acknowledgements, so a message counts as delivered
// once it is written to the transport: order and uniqueness hold within
// a session, but a poll answer lost on the way is lost, as with the
// reference server. The duplex dialect is the one that resends.
//
// Socket.IO: the main namespace "/" (others get CONNECT_ERROR). Session
// messages are "message" events with one argument (a string, or a binary
// attachment); any other event reaches Receive as a Message with Event
// set and Data the JSON array of its arguments, and SendMessage emits
// one the same way. An event asking for an acknowledgement is answered
// with no arguments once it is queued for Receive. Binary attachments
// are supported only as the single argument of a "message" event; other
// binary events end the session with a protocol error.
func (srv *Server) EngineIO(opts EngineIOOptions) http.Handler {
	if opts.PingInterval <= 0 {
		opts.PingInterval = 25 * time.Second
	}
	if opts.PingTimeout <= 0 {
		opts.PingTimeout = 20 * time.Second
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = srv.opts.MaxBodyBytes
	}
	return &eioHandler{srv: srv, opts: opts}
}

type eioHandler struct {
	srv  *Server
	opts EngineIOOptions
}

// Engine.IO packet types (protocol v4).
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
	eioSep     = '\x1e' // separates packets in a polling payload
)

// Engine.IO's error codes, answered with 400 as {"code", "message"}.
const (
	eioErrTransport = 0
	eioErrSession   = 1
	eioErrBadReq    = 3
	eioErrVersion   = 5
)

func eioError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, "{\"code\":%d,\"message\":%q}", code, msg)
}

// eioSession is the Engine.IO (and Socket.IO) state of a session, under
// the session's mutex.
type eioSession struct {
	h        *eioHandler
	ctrl     []string    // control packets due before any message
	pongWait bool        // a ping is out and unanswered
	pinger   *time.Timer // the heartbeat: ping, then check the pong
	upgraded bool        // the session moved to WebSocket for good

	sioConnected bool       // Socket.IO: the client joined namespace "/"
	sioBinary    *sioBinary // Socket.IO: a binary event awaiting its attachments
}

// sioBinary is a Socket.IO BINARY_EVENT whose attachments are arriving.
type sioBinary struct {
	ackID string
	args  []json.RawMessage
	want  int
	atts  []string
}

// start begins the heartbeat: a ping every PingInterval, and the session
// closes when the pong is not back within PingTimeout.
func (d *eioSession) start(s *Session) {
	var waiting bool // the timer is timing a pong, not the next ping
	s.mu.Lock()
	defer s.mu.Unlock()
	d.pinger = time.AfterFunc(d.h.opts.PingInterval, func() {
		s.mu.Lock()
		if waiting {
			waiting = false
			if d.pongWait {
				s.mu.Unlock()
				s.Close("ping timeout")
				return
			}
			d.pinger.Reset(max(d.h.opts.PingInterval-d.h.opts.PingTimeout, 0))
			s.mu.Unlock()
			return
		}
		waiting = true
		d.pongWait = true
		d.ctrl = append(d.ctrl, string(eioPing))
		d.pinger.Reset(d.h.opts.PingTimeout)
		s.mu.Unlock()
		s.wake()
	})
}

// wake tells the carrier of the session that there is something to send.
func (s *Session) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

func (d *eioSession) carries(p *Prepared) error {
	e := p.eioEncoding()
	if d.h.opts.SocketIO {
		return e.sioErr
	}
	if p.msg.Event != "" {
		return ErrEventUnsupported
	}
	return nil
}

func (d *eioSession) ended(*Session) {
	if d.pinger != nil {
		d.pinger.Stop()
	}
}

// eio returns the session's Engine.IO state.
func (s *Session) eio() *eioSession { return s.dialect.(*eioSession) }

// eioEncoded is a message as Engine.IO and Socket.IO packets.
type eioEncoded struct {
	eio    string // Engine.IO text packet ("4…"), when the message is text
	sio    string // Socket.IO EVENT or BINARY_EVENT, as an Engine.IO packet
	sioErr error  // why Socket.IO cannot carry the message
	b64    string // a binary message's polling form: "b" and base64
}

func (p *Prepared) eioEncoding() *eioEncoded {
	p.eioOnce.Do(func() {
		m, e := p.msg, &p.eio
		if m.Binary {
			e.b64 = "b" + base64.StdEncoding.EncodeToString([]byte(m.Data))
			if m.Event != "" {
				e.sioErr = errors.New("comet: Socket.IO binary events other than \"message\" are not supported")
				return
			}
			e.sio = `451-["message",{"_placeholder":true,"num":0}]`
			return
		}
		e.eio = string(eioMessage) + m.Data
		if m.Event == "" {
			arg, _ := json.Marshal(m.Data)
			e.sio = `42["message",` + string(arg) + "]"
			return
		}
		var args []json.RawMessage
		if json.Unmarshal([]byte(m.Data), &args) != nil {
			e.sioErr = errors.New("comet: a Socket.IO event's Data must be a JSON array of its arguments")
			return
		}
		name, _ := json.Marshal(m.Event)
		b := append([]byte(`42[`), name...)
		for _, a := range args {
			b = append(append(b, ','), a...)
		}
		e.sio = string(append(b, ']'))
	})
	return &p.eio
}

// frames returns what the session's dialect writes for m: text packets,
// and a binary attachment (nil for none).
func (d *eioSession) frames(m outMsg) (text string, bin []byte) {
	e := m.p.eioEncoding()
	if d.h.opts.SocketIO {
		text = e.sio
	} else {
		text = e.eio
	}
	if m.p.msg.Binary {
		bin = []byte(m.p.msg.Data)
	}
	return text, bin
}

// takeLocked returns the control packets and the messages due: messages
// wait until a Socket.IO client has joined the namespace.
func (s *Session) eioTakeLocked() (ctrl []string, msgs []outMsg) {
	d := s.eio()
	ctrl, d.ctrl = d.ctrl, nil
	if !d.h.opts.SocketIO || d.sioConnected {
		msgs = s.pendingLocked(0, nil)
	}
	return ctrl, msgs
}

// sentLocked acknowledges messages written to the transport: Engine.IO
// has no acknowledgement of its own.
func (s *Session) eioSentLocked(msgs []outMsg) {
	if len(msgs) > 0 {
		s.ackLocked(msgs[len(msgs)-1].seq)
	}
}

func (h *eioHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	srv := h.srv
	if !srv.checkOrigin(w, r) {
		return
	}
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		eioError(w, http.StatusBadRequest, eioErrVersion, "Unsupported protocol version")
		return
	}
	transport := q.Get("transport")
	if transport != "polling" && transport != "websocket" {
		eioError(w, http.StatusBadRequest, eioErrTransport, "Transport unknown")
		return
	}
	sid := q.Get("sid")
	if sid == "" {
		switch {
		case transport == "websocket":
			h.websocket(w, r, nil)
		case r.Method == http.MethodGet:
			h.handshake(w, r)
		default:
			eioError(w, http.StatusBadRequest, 2, "Bad handshake method")
		}
		return
	}
	s, _ := srv.find(sid)
	if s == nil {
		eioError(w, http.StatusBadRequest, eioErrSession, "Session ID unknown")
		return
	}
	if d, ok := s.dialect.(*eioSession); !ok || d.h != h {
		eioError(w, http.StatusBadRequest, eioErrSession, "Session ID unknown")
		return
	}
	if !s.sameOrigin(r) {
		eioError(w, http.StatusForbidden, 4, "Forbidden")
		return
	}
	srv.active.Add(1)
	defer srv.active.Add(-1)
	switch {
	case transport == "websocket":
		h.websocket(w, r, s)
	case r.Method == http.MethodGet:
		h.poll(w, r, s)
	case r.Method == http.MethodPost:
		h.post(w, r, s)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// openPacket is the handshake: the session id, the upgrades on offer,
// the heartbeat and the payload limit.
func (h *eioHandler) openPacket(s *Session, upgrades string) string {
	return fmt.Sprintf(`%c{"sid":%q,"upgrades":[%s],"pingInterval":%d,"pingTimeout":%d,"maxPayload":%d}`,
		eioOpen, s.id, upgrades, h.opts.PingInterval.Milliseconds(), h.opts.PingTimeout.Milliseconds(), h.opts.MaxPayload)
}

func (h *eioHandler) handshake(w http.ResponseWriter, r *http.Request) {
	s, err := h.srv.newSession(r, &eioSession{h: h})
	if err != nil {
		tooMany(w)
		return
	}
	s.mu.Lock()
	s.transport = "polling"
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	io.WriteString(w, h.openPacket(s, `"websocket"`))
}

// poll holds a GET until packets are due. Engine.IO allows one GET at a
// time: a second one is a protocol error that ends the session, and
// polling after an upgrade is refused.
func (h *eioHandler) poll(w http.ResponseWriter, r *http.Request, s *Session) {
	s.mu.Lock()
	if s.poll != nil || s.eio().upgraded {
		s.mu.Unlock()
		eioError(w, http.StatusBadRequest, eioErrBadReq, "Bad request")
		if !s.eio().upgraded {
			s.Close("overlapping polls")
		}
		return
	}
	mine := make(chan struct{})
	s.poll, s.transport, s.lastSeen = mine, "polling", time.Now()
	s.mu.Unlock()
	defer s.release(mine)

	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	timer := time.NewTimer(h.srv.opts.PollTimeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ctrl, msgs := s.eioTakeLocked()
		s.mu.Unlock()
		if len(ctrl) > 0 || len(msgs) > 0 {
			if _, err := w.Write(h.pollPayload(s.eio(), ctrl, msgs)); err == nil {
				s.mu.Lock()
				s.eioSentLocked(msgs)
				s.mu.Unlock()
			}
			return
		}
		select {
		case <-s.notify:
		case <-mine: // an upgrade probe ends the poll
			io.WriteString(w, string(eioNoop))
			return
		case <-s.closed:
			io.WriteString(w, string(eioClose))
			return
		case <-timer.C:
			io.WriteString(w, string(eioNoop))
			return
		case <-r.Context().Done():
			return
		}
	}
}

// release ends a request's hold on the session.
func (s *Session) release(mine chan struct{}) {
	s.mu.Lock()
	if s.poll == mine {
		s.poll = nil
	}
	s.lastSeen = time.Now()
	s.mu.Unlock()
}

// pollPayload joins packets with the record separator; binary goes as "b"
// and base64 (Engine.IO v4 polling).
func (h *eioHandler) pollPayload(d *eioSession, ctrl []string, msgs []outMsg) []byte {
	var b []byte
	sep := func() {
		if len(b) > 0 {
			b = append(b, eioSep)
		}
	}
	for _, c := range ctrl {
		sep()
		b = append(b, c...)
	}
	for _, m := range msgs {
		text, bin := d.frames(m)
		if text != "" {
			sep()
			b = append(b, text...)
		}
		if bin != nil {
			sep()
			b = append(b, m.p.eioEncoding().b64...)
		}
	}
	return b
}

// post takes the client's packets.
func (h *eioHandler) post(w http.ResponseWriter, r *http.Request, s *Session) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxPayload))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(w, "payload too large", http.StatusRequestEntityTooLarge)
			return
		}
		return
	}
	s.mu.Lock()
	s.lastSeen = time.Now()
	s.mu.Unlock()
	for _, p := range strings.Split(string(body), string(eioSep)) {
		var err error
		if strings.HasPrefix(p, "b") {
			raw, derr := base64.StdEncoding.DecodeString(p[1:])
			if derr != nil {
				err = errors.New("binary packet is not base64")
			} else {
				err = h.binary(r.Context(), s, raw)
			}
		} else {
			err = h.packet(r.Context(), s, p)
		}
		if errors.Is(err, errClientClose) {
			break
		}
		if err != nil {
			eioError(w, http.StatusBadRequest, eioErrBadReq, "Bad request")
			s.Close("protocol error: " + err.Error())
			return
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	io.WriteString(w, "ok")
}

// errClientClose is packet's answer to the client's close packet.
var errClientClose = errors.New("client closed")

// packet handles one text packet from the client.
func (h *eioHandler) packet(ctx context.Context, s *Session, p string) error {
	if p == "" {
		return errors.New("empty packet")
	}
	d := s.eio()
	switch p[0] {
	case eioPong:
		s.mu.Lock()
		d.pongWait = false
		s.mu.Unlock()
	case eioNoop:
	case eioClose:
		s.Close("client closed")
		return errClientClose
	case eioMessage:
		if d.h.opts.SocketIO {
			return h.sioPacket(ctx, s, p[1:])
		}
		return s.push(ctx, Message{Data: p[1:]})
	default:
		return fmt.Errorf("unexpected packet type %q", p[0])
	}
	return nil
}

// binary handles one binary message from the client.
func (h *eioHandler) binary(ctx context.Context, s *Session, data []byte) error {
	if !h.opts.SocketIO {
		return s.push(ctx, Message{Data: string(data), Binary: true})
	}
	s.mu.Lock()
	b := s.eio().sioBinary
	if b == nil {
		s.mu.Unlock()
		return errors.New("binary attachment without a binary event")
	}
	b.atts = append(b.atts, string(data))
	if len(b.atts) < b.want {
		s.mu.Unlock()
		return nil
	}
	s.eio().sioBinary = nil
	s.mu.Unlock()
	return h.sioEvent(ctx, s, b.ackID, b.args, b.atts)
}

// push hands a client message to the application, waiting for room in
// the inbound queue: a client that outruns Receive is slowed down (its
// POST or its socket's reads wait), never dropped.
func (s *Session) push(ctx context.Context, m Message) error {
	for {
		s.mu.Lock()
		ok := s.queueLocked(m)
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-s.inRoom:
		case <-s.closed:
			return ErrSessionClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sioPacket handles a Socket.IO packet (the data of an Engine.IO message).
func (h *eioHandler) sioPacket(ctx context.Context, s *Session, p string) error {
	if p == "" {
		return errors.New("empty Socket.IO packet")
	}
	typ, rest := p[0], p[1:]
	nsp := "/"
	if strings.HasPrefix(rest, "/") {
		var ok bool
		nsp, rest, ok = strings.Cut(rest, ",")
		if !ok {
			rest = ""
		}
	}
	d := s.eio()
	if nsp != "/" {
		if typ == '0' {
			s.queueCtrl(`4` + nsp + `,{"message":"Invalid namespace"}`) // CONNECT_ERROR
			return nil
		}
		return fmt.Errorf("namespace %q was never joined", nsp)
	}
	switch typ {
	case '0': // CONNECT, with the client's auth payload, if any
		s.mu.Lock()
		if d.sioConnected {
			s.mu.Unlock()
			return nil
		}
		d.sioConnected = true
		d.ctrl = append(d.ctrl, `40{"sid":"`+newID()+`"}`)
		s.mu.Unlock()
		s.wake()
	case '1': // DISCONNECT
		s.Close("client disconnected")
		return errClientClose
	case '2', '5': // EVENT, BINARY_EVENT
		s.mu.Lock()
		connected := d.sioConnected
		s.mu.Unlock()
		if !connected {
			return errors.New("event before CONNECT")
		}
		want := 0
		if typ == '5' {
			n, after, ok := strings.Cut(rest, "-")
			var err error
			if want, err = strconv.Atoi(n); !ok || err != nil || want < 1 || want > 16 {
				return errors.New("bad attachment count")
			}
			rest = after
		}
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		ackID, body := rest[:i], rest[i:]
		var args []json.RawMessage
		if json.Unmarshal([]byte(body), &args) != nil || len(args) == 0 {
			return errors.New("event is not a JSON array")
		}
		if want == 0 {
			return h.sioEvent(ctx, s, ackID, args, nil)
		}
		s.mu.Lock()
		d.sioBinary = &sioBinary{ackID: ackID, args: args, want: want}
		s.mu.Unlock()
	case '3', '6': // ACK, BINARY_ACK: the server never asks for one
	default:
		return fmt.Errorf("unexpected Socket.IO packet type %q", typ)
	}
	return nil
}

// sioEvent hands an event to the application and answers its ack.
func (h *eioHandler) sioEvent(ctx context.Context, s *Session, ackID string, args []json.RawMessage, atts []string) error {
	var name string
	if json.Unmarshal(args[0], &name) != nil {
		return errors.New("event name is not a string")
	}
	args = args[1:]
	var m Message
	var str string
	switch {
	case atts != nil:
		var ph struct {
			Placeholder bool `json:"_placeholder"`
			Num         *int `json:"num"`
		}
		if name != "message" || len(args) != 1 || len(atts) != 1 || json.Unmarshal(args[0], &ph) != nil ||
			!ph.Placeholder || ph.Num == nil || *ph.Num != 0 {
			return errors.New("binary events other than \"message\" with one attachment are not supported")
		}
		m = Message{Data: atts[0], Binary: true}
	case name == "message" && len(args) == 1 && json.Unmarshal(args[0], &str) == nil:
		m = Message{Data: str}
	default:
		enc, _ := json.Marshal(args)
		if len(args) == 0 {
			enc = []byte("[]")
		}
		m = Message{Event: name, Data: string(enc)}
	}
	if err := s.push(ctx, m); err != nil {
		return err
	}
	if ackID != "" {
		s.queueCtrl("3" + ackID + "[]") // ACK
	}
	return nil
}

// queueCtrl queues a Socket.IO packet (an Engine.IO message) ahead of the
// session's messages and wakes the carrier.
func (s *Session) queueCtrl(p string) {
	s.mu.Lock()
	s.eio().ctrl = append(s.eio().ctrl, string(eioMessage)+p)
	s.mu.Unlock()
	s.wake()
}

// websocket carries an Engine.IO session over WebSocket: a new session
// (s nil: the open packet is the first message) or an upgrade from
// polling (probe, the poll ended with a noop, then the upgrade packet).
func (h *eioHandler) websocket(w http.ResponseWriter, r *http.Request, s *Session) {
	c, err := ws.Upgrade(w, r, &ws.ServerOptions{
		// checkOrigin (and, for an upgrade, the session's origin) passed.
		Upgrader: handshake.Upgrader{InsecureSkipOriginCheck: true},
		Options: ws.Options{
			ReadLimit:   h.opts.MaxPayload,
			Compression: &ws.CompressionOptions{NoContextTakeover: true},
		},
	})
	if err != nil {
		return
	}
	if s == nil {
		s, err = h.srv.newSession(r, &eioSession{h: h})
		if err != nil {
			c.Close(frame.CloseTryAgainLater, "too many sessions")
			c.CloseNow()
			return
		}
	}
	probe := r.URL.Query().Get("sid") != ""
	h.srv.afterHijack(func(ctx context.Context) { h.wsSession(ctx, c, s, probe) })
}

// wsSession carries s over c until either ends: after the upgrade
// sequence when the socket joins a polling session (probe), or from the
// open packet.
func (h *eioHandler) wsSession(ctx context.Context, c *ws.Conn, s *Session, probe bool) {
	defer c.CloseNow()
	if !probe {
		if c.WriteMessage(ctx, ws.Text, []byte(h.openPacket(s, ""))) != nil {
			return
		}
	} else if !h.probe(ctx, c, s) {
		return
	}
	s.mu.Lock()
	if s.poll != nil {
		close(s.poll)
	}
	mine := make(chan struct{})
	s.poll, s.transport, s.eio().upgraded, s.lastSeen = mine, "websocket", true, time.Now()
	s.mu.Unlock()
	defer s.release(mine)

	readDone := make(chan error, 1)
	go func() { readDone <- h.wsRead(ctx, c, s) }()
	for {
		s.mu.Lock()
		ctrl, msgs := s.eioTakeLocked()
		s.mu.Unlock()
		for _, p := range ctrl {
			if c.WriteMessage(ctx, ws.Text, []byte(p)) != nil {
				return
			}
		}
		for _, m := range msgs {
			text, bin := s.eio().frames(m)
			if text != "" && c.WriteMessage(ctx, ws.Text, []byte(text)) != nil {
				return
			}
			if bin != nil && c.WriteMessage(ctx, ws.Binary, bin) != nil {
				return
			}
			s.mu.Lock()
			s.eioSentLocked([]outMsg{m})
			s.mu.Unlock()
		}
		if len(ctrl) > 0 || len(msgs) > 0 {
			continue
		}
		if !s.wsWait(ctx, c, mine, readDone, []byte{eioClose}) {
			return
		}
	}
}

// probe runs the upgrade from polling: "2probe" answered "3probe", the
// pending poll ended with a noop, then the client's "5". The session
// keeps flowing over polling until then.
func (h *eioHandler) probe(ctx context.Context, c *ws.Conn, s *Session) bool {
	ctx, cancel := context.WithTimeout(ctx, h.opts.PingTimeout)
	defer cancel()
	for {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			return false
		}
		switch {
		case typ == ws.Text && string(msg) == "2probe":
			if c.WriteMessage(ctx, ws.Text, []byte("3probe")) != nil {
				return false
			}
			s.mu.Lock()
			if s.poll != nil {
				close(s.poll) // the poll answers with a noop
				s.poll = nil
			}
			s.mu.Unlock()
		case typ == ws.Text && string(msg) == string(eioUpgrade):
			return true
		case typ == ws.Text && string(msg) == string(eioNoop):
		default:
			c.Close(frame.CloseProtocolError, "expected the upgrade probe")
			return false
		}
	}
}

// wsRead reads the client's packets off the socket.
func (h *eioHandler) wsRead(ctx context.Context, c *ws.Conn, s *Session) error {
	for {
		typ, msg, err := c.ReadMessage(ctx, nil)
		if err != nil {
			return err
		}
		s.mu.Lock()
		s.lastSeen = time.Now()
		s.mu.Unlock()
		if typ == ws.Binary {
			err = h.binary(ctx, s, msg)
		} else {
			err = h.packet(ctx, s, string(msg))
		}
		if errors.Is(err, errClientClose) {
			return err
		}
		if err != nil {
			c.Close(frame.CloseProtocolError, "protocol error")
			s.Close("protocol error: " + err.Error())
			return err
		}
	}
}
