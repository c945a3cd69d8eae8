// Package comet pushes messages to web clients over plain HTTP, the way
// servers did before WebSocket and still must where WebSocket is blocked:
// long polling, short polling and Server-Sent Events, behind one session
// API with sequence numbers and acknowledgements, so that a message is
// delivered exactly once and in order across broken polls and dropped
// streams.
//
// A Server is an http.Handler mounted at a path prefix. A client opens a
// session (POST {prefix}/open), then receives with GET {prefix}/poll or
// GET {prefix}/sse and sends with POST {prefix}/send. The application sees
// each session as a *Session with Send and Receive.
//
// The same session can be carried by WebSocket (GET {prefix}/ws), with the
// same sequence numbers and acknowledgements, so a client upgrades from
// long polling to WebSocket, or falls back, without losing or repeating a
// message.
//
// Status: the wire codecs for Engine.IO and SockJS, and a hub that
// encodes a broadcast once per transport, are still to come.
package comet

import (
	"context"
	"crypto/rand"
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
)

// outMsg is a queued outbound message: its data and the data's JSON
// encoding, made once (and shared by every session a Hub broadcast
// reaches).
type outMsg struct {
	seq  uint64
	data string
	enc  []byte
}

// Prepared is a message encoded once for any number of sessions: a Hub
// broadcast prepares its message once, and every transport of every
// session writes the same bytes.
type Prepared struct {
	data string
	enc  []byte // JSON string; <, >, &, U+2028, U+2029 escaped
}

// Prepare encodes data for SendPrepared.
func Prepare(data string) *Prepared {
	enc, _ := json.Marshal(data) // a string always marshals
	return &Prepared{data: data, enc: enc}
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
	lastSeen  time.Time
	poll      chan struct{} // closed to end the current long poll early
	notify    chan struct{} // signalled when out grows
	in        chan string
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

// Send queues data for the client. It fails with ErrQueueFull when
// Options.QueueLen messages are waiting for acknowledgement, unless
// Options.BlockWhenFull is set, in which case it waits for room until ctx
// ends.
func (s *Session) Send(ctx context.Context, data string) error {
	return s.SendPrepared(ctx, Prepare(data))
}

// SendPrepared is Send for a message prepared once for many sessions.
func (s *Session) SendPrepared(ctx context.Context, p *Prepared) error {
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
func (s *Session) Receive(ctx context.Context) (string, error) {
	select {
	case m := <-s.in:
		return m, nil
	case <-ctx.Done():
		return "", ctx.Err()
	case <-s.closed:
		select {
		case m := <-s.in:
			return m, nil
		default:
		}
		return "", ErrSessionClosed
	}
}

// Close ends the session; the client's next request gets 410 Gone.
func (s *Session) Close(reason string) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.reason = reason
		s.mu.Unlock()
		close(s.closed)
		s.srv.remove(s)
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

// pending returns copies of the unacknowledged messages after seq.
func (s *Session) pendingLocked(after uint64) []outMsg {
	var msgs []outMsg
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
		select {
		case s.in <- m.Data:
			s.inSeq = m.Seq
		default:
			return false
		}
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
