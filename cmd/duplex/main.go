// Command duplex is duplex's demo server and a wscat-like client.
//
//	duplex                      serve the demo on 127.0.0.1:8080
//	duplex serve -addr HOST:PORT
//	duplex client ws://HOST:PORT/ws
//
// The server answers WebSocket connections on /ws by echoing every message
// and serves a page at / that talks to it and shows one live feed over
// every comet transport side by side, with what each costs on the wire.
// The same feed is served to socket.io-client (/socket.io/),
// engine.io-client (/engine.io/) and sockjs-client (/sockjs). The client sends each line of standard
// input as a text message and prints what arrives.
package main

import (
	"bufio"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/duplexgo/duplex/comet"
	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
	"github.com/duplexgo/duplex/ws"
)

//go:embed index.html
var indexHTML []byte

func main() {
	log.SetFlags(0)
	args := os.Args[1:]
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args)
	case "client":
		err = client(args)
	default:
		err = fmt.Errorf("unknown command %q (serve, client)", cmd)
	}
	if err != nil {
		log.Fatal("duplex: ", err)
	}
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	fs.Parse(args)

	opts := &ws.ServerOptions{Options: ws.Options{
		Compression:  &ws.CompressionOptions{},
		ReadLimit:    1 << 20,
		PingInterval: 30 * time.Second,
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(indexHTML)
	})
	// The live feed: every comet session gets the server's clock every
	// half second, over whichever transport its page chose.
	feed := newFeed()
	cs := comet.NewServer(comet.Options{PollTimeout: 20 * time.Second, Heartbeat: 10 * time.Second}, feed.add)
	m := newMeter()
	mux.Handle("/comet/", m.wrap(cs))
	mux.HandleFunc("GET /stats", m.serveStats)
	// The echo socket is counted in the same registry as the sessions and
	// closed with 1001 at shutdown.
	mux.Handle("/ws", cs.WebSocketHandler(opts, echo))
	// The same feed for socket.io-client and engine.io-client.
	mux.Handle("/socket.io/", cs.EngineIO(comet.EngineIOOptions{SocketIO: true}))
	mux.Handle("/engine.io/", cs.EngineIO(comet.EngineIOOptions{}))
	mux.Handle("/sockjs/", cs.SockJS("/sockjs", comet.SockJSOptions{}))
	go feed.run(500 * time.Millisecond)

	srv := &http.Server{
		Addr:              *addr,
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second, // a trickling handshake is cut off
		MaxHeaderBytes:    16 << 10,
		IdleTimeout:       60 * time.Second,
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		cs.Shutdown(sctx, "server shutting down") // tells comet clients in their terms
		feed.stop()
		srv.Shutdown(sctx)
	}()
	log.Printf("duplex demo on http://%s/ (WebSocket echo on ws://%s/ws)", *addr, *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// echo sends every message back until the connection ends.
func echo(ctx context.Context, c *ws.Conn) {
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf[:0])
		if err != nil {
			return
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			return
		}
		buf = msg
	}
}

// feed broadcasts the server's clock to every live comet session through
// a Hub, which encodes each tick once for all of them.
type feed struct {
	hub  *comet.Hub
	done chan struct{}
}

func newFeed() *feed { return &feed{hub: comet.NewHub(), done: make(chan struct{})} }

func (f *feed) add(s *comet.Session) { f.hub.Join(s, "clock") }

func (f *feed) run(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-f.done:
			return
		case now := <-t.C:
			// A session whose client stopped acknowledging misses ticks.
			f.hub.Broadcast("clock", fmt.Sprintf(`{"n":%d,"t":%d}`, n, now.UnixMilli()))
		}
	}
}

func (f *feed) stop() { close(f.done) }

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	compress := fs.Bool("compress", true, "offer permessage-deflate")
	proto := fs.String("subprotocol", "", "comma-separated subprotocols to offer")
	var hdrs headers
	fs.Var(&hdrs, "H", "extra request header \"Name: value\" (repeatable)")
	fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("usage: duplex client [-compress] [-subprotocol p] [-H 'Name: v'] ws://host/path")
	}
	opts := &ws.DialOptions{Dialer: handshake.Dialer{Header: http.Header{}}}
	if *compress {
		opts.Compression = &ws.CompressionOptions{}
	}
	if *proto != "" {
		opts.Subprotocols = strings.Split(*proto, ",")
	}
	for _, h := range hdrs {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("bad header %q", h)
		}
		opts.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	c, err := ws.Dial(ctx, fs.Arg(0), opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "connected (subprotocol %q, compression %v); type lines to send, ^D to close\n", c.Subprotocol(), c.Compressed())
	done := make(chan error, 1)
	go func() {
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(context.Background(), buf[:0])
			if err != nil {
				done <- err
				return
			}
			if typ == ws.Text {
				fmt.Printf("< %s\n", msg)
			} else {
				fmt.Printf("< [%d bytes binary] %x\n", len(msg), msg[:min(len(msg), 32)])
			}
			buf = msg
		}
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				c.Close(frame.CloseNormal, "")
				<-done
				return nil
			}
			if err := c.WriteMessage(ctx, ws.Text, []byte(line)); err != nil {
				return err
			}
		case err := <-done:
			if code := ws.CloseStatus(err); code != 0 {
				fmt.Fprintf(os.Stderr, "closed: %v\n", err)
				return nil
			}
			return err
		case <-ctx.Done():
			c.Close(frame.CloseGoingAway, "")
			return nil
		}
	}
}
