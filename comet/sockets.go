package comet

import (
	"context"
	"net/http"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/ws"
)

// WebSocketHandler returns a handler for plain WebSocket connections —
// an application's own protocol, not a comet session — counted in the
// same registry as the Server's sessions: MaxSessions bounds both
// together (a socket beyond it is accepted and closed at once with 1013
// Try Again Later, which browsers report, instead of an HTTP error they
// hide), Stats counts them, and Shutdown closes them with 1001 and waits
// for serve to return.
//
// serve runs for each connection, in a goroutine of its own (the handler
// returns at once, so that net/http frees its per-request buffers: about
// 12 KiB per idle socket); ctx is cancelled at Shutdown. The connection is
// closed (1000, or 1001 after Shutdown) when serve returns without having
// closed it.
func (srv *Server) WebSocketHandler(opts *ws.ServerOptions, serve func(ctx context.Context, c *ws.Conn)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Upgrade(w, r, opts)
		if err != nil {
			return // Upgrade has answered
		}
		srv.mu.Lock()
		if srv.closing || len(srv.sessions)+len(srv.sockets) >= srv.opts.MaxSessions {
			srv.mu.Unlock()
			c.Close(frame.CloseTryAgainLater, "too many connections")
			c.CloseNow()
			return
		}
		ctx, cancel := context.WithCancel(context.Background())
		srv.sockets[c] = cancel
		srv.active.Add(1)
		srv.mu.Unlock()
		// The handler returns so that net/http frees what it keeps per
		// request (see afterHijack); serve runs in a goroutine of its own.
		go func() {
			defer func() {
				cancel()
				srv.mu.Lock()
				delete(srv.sockets, c)
				srv.mu.Unlock()
				srv.active.Add(-1)
			}()
			serve(ctx, c)
			srv.mu.Lock()
			code, reason := frame.CloseNormal, ""
			if srv.closing {
				code, reason = frame.CloseGoingAway, srv.reason
			}
			srv.mu.Unlock()
			c.Close(code, reason)
		}()
	})
}
