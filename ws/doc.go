// Package ws is a WebSocket connection (RFC 6455) for servers and clients.
//
// Upgrade turns a net/http request into a *Conn; Dial opens one to a ws://
// or wss:// URL. A Conn reads and writes whole messages (ReadMessage,
// WriteMessage) or streams them (NextReader, NextWriter), so that a message
// of any size passes through in bounded memory.
//
//	conn, err := ws.Upgrade(w, r, nil)
//	if err != nil {
//		return // the client has been answered
//	}
//	defer conn.CloseNow()
//	var buf []byte
//	for {
//		typ, msg, err := conn.ReadMessage(ctx, buf[:0])
//		if err != nil {
//			return // ws.CloseStatus(err) tells how the peer closed
//		}
//		if err := conn.WriteMessage(ctx, typ, msg); err != nil {
//			return
//		}
//		buf = msg
//	}
//
// # Concurrency
//
// One goroutine may read (ReadMessage, NextReader and the reader it
// returns) while another writes. Message writes from several goroutines are
// serialised: each WriteMessage, and each NextWriter until its Close, has
// the connection to itself, so frames never interleave. Ping, Close and
// CloseNow may be called from any goroutine at any time. Control frames
// (the pong that answers a ping, a Close) are written between the fragments
// of a long message, as RFC 6455 §5.4 allows.
//
// Ping waits for the matching pong, which only a reading goroutine can
// see: call it while another goroutine reads.
//
// # Protocol errors and closing
//
// The Conn enforces RFC 6455: a peer that breaks the protocol gets a Close
// frame with the status the RFC names (1002, 1007 for text that is not
// UTF-8, 1009 for a message over the read limit) and the read returns a
// frame.Error. When the peer closes, reads return a *CloseError; use
// CloseStatus to get its code. Close performs the closing handshake: it
// sends a Close frame, waits (up to Options.CloseTimeout) for the peer's,
// reading and discarding data frames meanwhile so that unread input does
// not make the kernel reset the connection, and then closes the socket (a
// server first, as §7.1.1 asks). CloseNow drops the connection.
//
// # Performance
//
// Reading and writing a message allocate nothing. Replies to pipelined
// messages are coalesced into few network writes, with no delay for a
// lone request (see Options.WriteImmediately). A message sent to many
// connections can be framed, and compressed, once: NewPreparedMessage and
// WritePrepared.
//
// A connection upgraded from net/http keeps net/http's per-request state
// (a 4 KiB reader, a 4 KiB writer and the serving goroutine's stack)
// alive for as long as the handler runs. A server holding many idle
// connections saves about 12 KiB per connection by serving each one from a
// goroutine of its own and returning from the handler:
//
//	conn, err := ws.Upgrade(w, r, opts)
//	if err != nil {
//		return
//	}
//	go serve(conn) // the handler returns; net/http lets go of the request
//
// # Limits
//
// Every resource a peer can make the Conn spend is bounded by an Options
// field with a safe default: message size (ReadLimit), frame size, buffer
// sizes, write and close timeouts.
package ws
