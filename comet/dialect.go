package comet

// A dialect is a wire protocol spoken over the session layer.
//
// The session layer (Server and Session) owns what every protocol needs
// and none should redo: session ids and the registry, the limit shared
// with plain WebSockets, idle expiry, Shutdown, the bounded outbound queue
// with its sequence numbers, the inbound queue, Hub groups, and Prepared
// messages. A dialect owns the wire: its URLs, handshake, framing and
// escaping, heartbeats, how a client asks for a new transport, and what
// counts as an acknowledgement. Its handler finds or creates sessions with
// Server.newSession and Server.find, holds one as its carrier (Session.poll
// and release), takes what is due with pendingLocked, and acknowledges
// with ackLocked — after the client confirms, where the protocol can say
// so (duplex's own), or once written, where it cannot (Engine.IO, SockJS).
// Incoming messages go to the application through deliver (ordered by the
// client's sequence numbers) or push (in arrival order, with back
// pressure).
//
// duplex's own dialect is built into Server and keeps no state of its own
// (a nil dialect); Engine.IO / Socket.IO (eio.go) and SockJS (sockjs.go)
// keep theirs in the session's dialect value, and cache their encoding of
// each Prepared message, so a broadcast is encoded once per dialect.
type dialect interface {
	// carries reports why the dialect cannot carry p (binary, an event),
	// or nil.
	carries(p *Prepared) error
	// ended runs once, with the session's mutex held, when the session
	// closes: stop timers, forget client-chosen ids later.
	ended(s *Session)
}

// canCarry reports whether the session's dialect can carry p.
func (s *Session) canCarry(p *Prepared) error {
	if s.dialect == nil {
		return nil
	}
	return s.dialect.carries(p)
}
