package comet

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
	"github.com/duplexgo/duplex/ws"
)

// clientFrame is what a client sends over WebSocket: an acknowledgement,
// a message, or both. The server answers each message with {"in": n},
// the highest client seq delivered, and sends its own messages as
// {"seq": n, "data": "..."}.
type clientFrame struct {
	Ack *uint64 `json:"ack,omitempty"`
	Msg *inMsg  // when the frame has data
}

// UnmarshalJSON decodes {"ack": n}, a message ({"seq", "data", …}), or
// both in one object.
func (f *clientFrame) UnmarshalJSON(b []byte) error {
	var w struct {
		Ack  *uint64         `json:"ack"`
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = clientFrame{Ack: w.Ack}
	if w.Data != nil {
		f.Msg = new(inMsg)
		return f.Msg.UnmarshalJSON(b)
	}
	if w.Ack == nil {
		return errors.New("comet: frame with neither ack nor data")
	}
	return nil
}

// websocket carries a session over a WebSocket connection: the same
// sequence numbers and acknowledgements as the HTTP transports, so a
// client can move between them (upgrade from long polling, fall back when
// the socket dies) without losing or repeating a message. The socket
// replaces any poll or stream the session had.
func (srv *Server) websocket(w http.ResponseWriter, r *http.Request, s *Session) {
	after, ok := ackParam(r)
	if !ok {
		http.Error(w, "bad ack", http.StatusBadRequest)
		return
	}
	c, err := ws.Upgrade(w, r, &ws.ServerOptions{
		// lookup has bound the request to the session's origin.
		Upgrader: handshake.Upgrader{InsecureSkipOriginCheck: true},
		Options: ws.Options{
			ReadLimit:    srv.opts.MaxBodyBytes,
			PingInterval: srv.opts.Heartbeat,
			Compression:  &ws.CompressionOptions{NoContextTakeover: true},
		},
	})
	if err != nil {
		return
	}
	srv.afterHijack(func(ctx context.Context) { srv.wsSession(ctx, c, s, after) })
}

// afterHijack runs the rest of a WebSocket's life in a goroutine of its
// own, counted by Shutdown, so that the handler returns and net/http
// frees what it keeps per connection while a handler runs (a 4 KiB
// reader, a 4 KiB writer, and the deep stack of the goroutine that served
// the request): about 12 KiB less per idle socket. ctx ends when fn
// returns.
func (srv *Server) afterHijack(fn func(ctx context.Context)) {
	srv.active.Add(1)
	go func() {
		defer srv.active.Add(-1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		fn(ctx)
	}()
}

// wsSession carries s over c until either ends.
func (srv *Server) wsSession(ctx context.Context, c *ws.Conn, s *Session, after uint64) {
	defer c.CloseNow()
	mine, detach := s.attach("websocket", after)
	defer detach()
	readDone := make(chan error, 1)
	go func() { readDone <- srv.wsRead(ctx, c, s) }()

	var buf []byte
	var msgs []outMsg // reused between wake-ups
	for {
		s.mu.Lock()
		msgs = s.pendingLocked(after, msgs)
		s.mu.Unlock()
		for _, m := range msgs {
			buf = appendWire(buf[:0], m)
			if err := c.WriteMessage(ctx, ws.Text, buf); err != nil {
				return
			}
			after = m.seq
		}
		if len(msgs) > 0 {
			continue
		}
		if !s.wsWait(ctx, c, mine, readDone, nil) {
			return
		}
	}
}

// wsWait waits, on a WebSocket carrying s, until there may be something to
// send (true) or the carrier must stop (false, the socket closed): another
// carrier took the session over (1000), the session ended (goodbye, if
// any, then 1001 with the session's reason), or the reader ended.
func (s *Session) wsWait(ctx context.Context, c *ws.Conn, mine chan struct{}, readDone <-chan error, goodbye []byte) bool {
	select {
	case <-s.notify:
		return true
	case <-mine:
		c.Close(frame.CloseNormal, "superseded")
	case <-s.closed:
		if goodbye != nil {
			c.WriteMessage(ctx, ws.Text, goodbye)
		}
		c.Close(frame.CloseGoingAway, s.reason)
	case <-readDone:
	}
	return false
}

// wsRead applies the client's acknowledgements and hands its messages to
// the session, in order and once.
func (srv *Server) wsRead(ctx context.Context, c *ws.Conn, s *Session) error {
	var buf []byte
	for {
		_, msg, err := c.ReadMessage(ctx, buf[:0])
		if err != nil {
			return err
		}
		buf = msg
		var f clientFrame
		if json.Unmarshal(msg, &f) != nil {
			c.Close(frame.CloseUnsupportedData, "expected {ack} or {seq, data}")
			return nil
		}
		s.mu.Lock()
		if f.Ack != nil {
			s.ackLocked(*f.Ack)
		}
		s.lastSeen = time.Now()
		s.mu.Unlock()
		if f.Msg != nil {
			if !s.deliver([]inMsg{*f.Msg}) {
				c.Close(frame.CloseTryAgainLater, "inbound queue full or out of order")
				return nil
			}
			// Tell the client what it can forget: {"in": n} means every
			// message up to n was handed to the application.
			s.mu.Lock()
			in := s.inSeq
			s.mu.Unlock()
			ack := strconv.AppendUint([]byte(`{"in":`), in, 10)
			if err := c.WriteMessage(ctx, ws.Text, append(ack, '}')); err != nil {
				return err
			}
		}
	}
}
