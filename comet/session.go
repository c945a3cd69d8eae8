// Package comet pushes messages to web clients over plain HTTP, the way
// servers did before WebSocket and still must where WebSocket is blocked:
// long polling, short polling, Server-Sent Events, XHR streaming and the
// forever iframe, and over WebSocket too, behind one session API with
// sequence numbers and acknowledgements, so that a message is delivered
// exactly once and in order across broken polls, dropped streams and
// changes of transport.
//
// A Server is the session layer: a registry of sessions (and of plain
// WebSocket connections, WebSocketHandler) with one limit, idle expiry,
// and a Shutdown that tells every client in its transport's terms. Its
// sessions speak one of three wire dialects (see dialect.go for the
// boundary between the session layer and a dialect):
//
//   - duplex's own, served by the Server itself as an http.Handler under a
//     path prefix: a client opens a session (POST {prefix}/open), receives
//     with GET {prefix}/poll, /sse, /stream, /iframe or /ws, and sends with
//     POST {prefix}/send. The browser client at {prefix}/client.js picks
//     the best transport and falls back. This dialect acknowledges every
//     message, so nothing is lost when a connection breaks.
//   - Engine.IO v4, and Socket.IO v5 on top of it, served by the handler
//     EngineIO returns, for engine.io-client and socket.io-client.
//   - SockJS 0.3, served by the handler SockJS returns, for sockjs-client
//     (every transport: websocket, xhr-streaming, xhr-polling,
//     eventsource, htmlfile, jsonp-polling, the iframe page).
//
// The application sees each session as a *Session with Send and Receive,
// whatever its dialect and transport. A Hub sends to groups of sessions,
// encoding a message once per dialect rather than once per client.
package comet

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// Errors of sessions.
var (
	// ErrQueueFull is returned by Send when the session's outbound queue
	// holds Options.QueueLen unacknowledged messages.
	ErrQueueFull = errors.New("comet: session queue full")
	// ErrSessionClosed is returned by Send and Receive on a closed or
	// expired session.
	ErrSessionClosed = errors.New("comet: session closed")
	// ErrEventUnsupported is returned by SendMessage when a message names
	// an event and the session's dialect (plain Engine.IO) has none.
	ErrEventUnsupported = errors.New("comet: the session's dialect has no events")
)

// Message is one message of a session, in either direction, whatever the
// dialect and transport that carry it.
type Message struct {
	// Data is the message: UTF-8 text, or any bytes when Binary is set.
	Data string
	// Binary marks a binary message (a WebSocket binary frame, base64 on
	// the text-only HTTP transports).
	Binary bool
	// Event names a Socket.IO event other than "message"; Data is then
	// the JSON array of the event's arguments. The duplex dialect carries
	// Event as a field; plain Engine.IO has no events and refuses one
	// with ErrEventUnsupported. Empty for ordinary messages.
	Event string
}

// outMsg is a queued outbound message and its sequence number.
type outMsg struct {
	seq uint64
	p   *Prepared
}

// Prepared is a message encoded once for any number of sessions: a Hub
// broadcast prepares its message once, and every session of a dialect
// writes the same bytes, whatever its transport.
type Prepared struct {
	msg    Message
	native []byte // `,"data":…[,"binary":true][,"event":…]`, HTML-safe JSON

	eioOnce sync.Once
	eio     eioEncoded // Engine.IO / Socket.IO packets, made on first use
	sjOnce  sync.Once
	sj      string // SockJS's JSON string, made on first use
}

// Prepare encodes a text message for SendPrepared and Hub.BroadcastPrepared.
func Prepare(data string) *Prepared { return PrepareMessage(Message{Data: data}) }

// PrepareMessage encodes m for SendPrepared and Hub.BroadcastPrepared.
func PrepareMessage(m Message) *Prepared {
	data := m.Data
	if m.Binary {
		data = base64.StdEncoding.EncodeToString([]byte(m.Data))
	}
	enc, _ := json.Marshal(data) // a string always marshals
	b := append([]byte(`,"data":`), enc...)
	if m.Binary {
		b = append(b, `,"binary":true`...)
	}
	if m.Event != "" {
		ev, _ := json.Marshal(m.Event)
		b = append(append(b, `,"event":`...), ev...)
	}
	return &Prepared{msg: m, native: b}
}

// Session is one client's logical connection, whatever transport carries
// it at the moment. Send and Receive are safe for concurrent use.
type Session struct {
	id     string
	origin string
	srv    *Server

	mu        sync.Mutex
	out       []outMsg // unacknowledged, ascending seq
	nextSeq   uint64   // seq of the next Send (first is 1)
	inSeq     uint64   // highest client seq delivered to the application
	transport string
	dialect   dialect // the wire protocol's state; nil for duplex's own
	lastSeen  time.Time
	poll      chan struct{} // closed to end the current long poll early
	notify    chan struct{} // signalled when out grows
	inq       []Message     // inbound queue: inq[inHead:] wait for Receive
	inHead    int           //
	inWake    chan struct{} // signalled when inq grows
	inRoom    chan struct{} // signalled when inq shrinks
	closed    chan struct{}
	closeOnce sync.Once
	reason    string
}

// ID returns the session id: 128 random bits, hex.
func (s *Session) ID() string { return s.id }

// Transport returns the transport that last carried the session: "poll",
// "sse", "stream", "iframe", "websocket", or "" before the first request.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("comet: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// Send queues a text message for the client. It fails with ErrQueueFull
// when Options.QueueLen messages are waiting for acknowledgement, unless
// Options.BlockWhenFull is set, in which case it waits for room until ctx
// ends.
func (s *Session) Send(ctx context.Context, data string) error {
	return s.SendPrepared(ctx, Prepare(data))
}

// SendBinary is Send for a binary message.
func (s *Session) SendBinary(ctx context.Context, data []byte) error {
	return s.SendPrepared(ctx, PrepareMessage(Message{Data: string(data), Binary: true}))
}

// SendMessage is Send for any Message.
func (s *Session) SendMessage(ctx context.Context, m Message) error {
	return s.SendPrepared(ctx, PrepareMessage(m))
}

// SendPrepared is Send for a message prepared once for many sessions.
func (s *Session) SendPrepared(ctx context.Context, p *Prepared) error {
	if err := s.canCarry(p); err != nil {
		return err
	}
	for {
		if s.trySend(p) {
			return nil
		}
		select {
		case <-s.closed:
			return ErrSessionClosed
		default:
		}
		if !s.srv.opts.BlockWhenFull {
			return ErrQueueFull
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closed:
			return ErrSessionClosed
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Receive returns the next message from the client, in order, each once.
// Messages that arrived before the session closed are still returned.
func (s *Session) Receive(ctx context.Context) (Message, error) {
	for {
		s.mu.Lock()
		m, ok := s.popLocked()
		s.mu.Unlock()
		if ok {
			signal(s.inRoom)
			return m, nil
		}
		select {
		case <-s.inWake:
		case <-ctx.Done():
			return Message{}, ctx.Err()
		case <-s.closed:
			s.mu.Lock()
			m, ok := s.popLocked()
			s.mu.Unlock()
			if ok {
				return m, nil
			}
			return Message{}, ErrSessionClosed
		}
	}
}

// The inbound queue is a slice that grows as messages wait for Receive
// (at most Options.InboundLen) and is dropped when drained, so an idle
// session holds no buffer for it.

// queueLocked adds m to the inbound queue, reporting false when it is
// full.
func (s *Session) queueLocked(m Message) bool {
	if len(s.inq)-s.inHead >= s.srv.opts.InboundLen {
		return false
	}
	s.inq = append(s.inq, m)
	signal(s.inWake)
	return true
}

func (s *Session) popLocked() (Message, bool) {
	if s.inHead == len(s.inq) {
		return Message{}, false
	}
	m := s.inq[s.inHead]
	s.inq[s.inHead] = Message{}
	s.inHead++
	if s.inHead == len(s.inq) {
		s.inq, s.inHead = nil, 0
	}
	return m, true
}

// signal wakes one waiter of a capacity-1 channel, if none is pending.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Close ends the session; the client's next request gets 410 Gone.
func (s *Session) Close(reason string) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.reason = reason
		if s.dialect != nil {
			s.dialect.ended(s)
		}
		s.mu.Unlock()
		s.srv.remove(s) // first: once Done is closed, requests get 410
		close(s.closed)
	})
	return nil
}

// Done is closed when the session ends.
func (s *Session) Done() <-chan struct{} { return s.closed }

// ack drops the messages the client confirmed (seq <= upTo) and returns
// what is left to deliver.
func (s *Session) ackLocked(upTo uint64) {
	i := 0
	for i < len(s.out) && s.out[i].seq <= upTo {
		i++
	}
	if i > 0 {
		s.out = append(s.out[:0], s.out[i:]...)
	}
}

// pendingLocked appends to dst the unacknowledged messages after seq (a
// carrier passes the slice it used last time, so that a stream does not
// allocate per wake-up).
func (s *Session) pendingLocked(after uint64, dst []outMsg) []outMsg {
	msgs := dst[:0]
	for _, m := range s.out {
		if m.seq > after {
			msgs = append(msgs, m)
		}
	}
	return msgs
}

// deliver hands client messages with seq > inSeq to the application, in
// order; duplicates (a resent POST) are dropped. It reports false when
// the inbound queue is full.
func (s *Session) deliver(msgs []inMsg) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range msgs {
		if m.Seq <= s.inSeq {
			continue
		}
		if m.Seq != s.inSeq+1 {
			return false // a gap: the client must resend from inSeq+1
		}
		if !s.queueLocked(m.Message) {
			return false
		}
		s.inSeq = m.Seq
	}
	return true
}

// attach makes the calling request the session's carrier: it applies the
// client's acknowledgement, ends the request that carried the session so
// far (the older of two polls is answered and closed), and returns a
// channel closed when a newer request takes over, and the function to
// call when the request ends.
func (s *Session) attach(transport string, ack uint64) (mine chan struct{}, detach func()) {
	mine = make(chan struct{})
	s.mu.Lock()
	s.ackLocked(ack)
	s.transport = transport
	s.lastSeen = time.Now()
	if s.poll != nil {
		close(s.poll)
	}
	s.poll = mine
	s.mu.Unlock()
	return mine, func() {
		s.mu.Lock()
		if s.poll == mine {
			s.poll = nil
		}
		s.lastSeen = time.Now()
		s.mu.Unlock()
	}
}
