package comet_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/duplexgo/duplex/comet"
	"github.com/duplexgo/duplex/ws"
)

// A chat room served to every kind of client at once: duplex's own
// browser client (/comet/client.js: WebSocket, SSE, XHR streaming, the
// forever iframe, long or short polling), socket.io-client, and
// sockjs-client. One Hub broadcast reaches all of them, encoded once per
// dialect.
func ExampleServer() {
	room := comet.NewHub()
	srv := comet.NewServer(comet.Options{}, func(s *comet.Session) {
		room.Join(s, "lobby")
		ctx := context.Background()
		for {
			m, err := s.Receive(ctx)
			if err != nil {
				return // the session ended
			}
			if !m.Binary && m.Event == "" {
				room.Broadcast("lobby", m.Data)
			}
		}
	})
	mux := http.NewServeMux()
	mux.Handle("/comet/", srv)
	mux.Handle("/socket.io/", srv.EngineIO(comet.EngineIOOptions{SocketIO: true}))
	mux.Handle("/sockjs/", srv.SockJS("/sockjs", comet.SockJSOptions{}))

	hs := &http.Server{Addr: "127.0.0.1:8080", Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.ListenAndServe()

	// At shutdown every client hears it in its transport's terms.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx, "server restarting"); err != nil {
		log.Print(err)
	}
	hs.Shutdown(ctx)
}

// Plain WebSockets of an application's own protocol, counted in the same
// registry as the sessions: one limit, one Stats, one Shutdown.
func ExampleServer_WebSocketHandler() {
	srv := comet.NewServer(comet.Options{MaxSessions: 50000}, nil)
	http.Handle("/echo", srv.WebSocketHandler(nil, func(ctx context.Context, c *ws.Conn) {
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(ctx, buf[:0])
			if err != nil {
				return
			}
			if c.WriteMessage(ctx, typ, msg) != nil {
				return
			}
			buf = msg
		}
	}))
	st := srv.Stats()
	log.Printf("%d sessions, %d plain sockets", st.Sessions, st.WebSockets)
}
