package bench

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"

	coder "github.com/coder/websocket"
	gobwas "github.com/gobwas/ws"
	"github.com/gorilla/websocket"
	"github.com/lxzan/gws"
	xnet "golang.org/x/net/websocket"

	"github.com/duplexgo/duplex/ws"
)

// contestant is one server implementation of the echo and idle
// benchmarks. serve runs on an accepted connection that has not read its
// handshake yet: echo upgrades and echoes every message until the
// connection ends; idle upgrades and blocks reading as an idle server
// connection does.
type contestant struct {
	name string
	ws   bool // speaks WebSocket (false: the raw TCP reference)
	echo func(net.Conn)
	idle func(net.Conn)
}

// httpUpgrade reads the handshake request from c and hands it to h with a
// ResponseWriter that hijacks to c, as net/http would.
func httpUpgrade(c net.Conn, h http.Handler) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	h.ServeHTTP(&hijackWriter{conn: c, br: br}, req)
}

func duplexEcho(opts *ws.ServerOptions) func(net.Conn) {
	return func(c net.Conn) {
		wc, err := ws.UpgradeConn(c, opts)
		if err != nil {
			return
		}
		var buf []byte
		ctx := context.Background()
		for {
			typ, msg, err := wc.ReadMessage(ctx, buf[:0])
			if err != nil {
				return
			}
			if wc.WriteMessage(ctx, typ, msg) != nil {
				return
			}
			buf = msg
		}
	}
}

// gorillaEcho echoes messages on a gorilla connection until it ends.
func gorillaEcho(wc *websocket.Conn) {
	for {
		typ, msg, err := wc.ReadMessage()
		if err != nil {
			return
		}
		if wc.WriteMessage(typ, msg) != nil {
			return
		}
	}
}

// gwsEcho is gws's event handler that echoes.
type gwsEcho struct{ gws.BuiltinEventHandler }

func (gwsEcho) OnMessage(socket *gws.Conn, m *gws.Message) {
	socket.WriteMessage(m.Opcode, m.Bytes())
	m.Close()
}

// gwsIdle is gws's event handler for idle connections.
type gwsIdle struct{ gws.BuiltinEventHandler }

func gwsServe(h gws.Event, opt *gws.ServerOption) func(net.Conn) {
	up := gws.NewUpgrader(h, opt)
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		socket, err := up.UpgradeFromConn(c, br, req)
		if err != nil {
			return
		}
		socket.ReadLoop()
	}
}

// contestants returns every server, the raw TCP reference first.
func contestants() []contestant {
	return []contestant{
		{"raw-tcp", false, func(c net.Conn) {
			buf := make([]byte, 128<<10)
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
		}, func(c net.Conn) {
			var one [1]byte
			c.Read(one[:])
		}},
		{"duplex", true, duplexEcho(nil), func(c net.Conn) {
			wc, err := ws.UpgradeConn(c, nil)
			if err != nil {
				return
			}
			wc.ReadMessage(context.Background(), nil)
		}},
		{"gorilla", true, func(c net.Conn) {
			if wc, err := gorillaUpgrade(c); err == nil {
				gorillaEcho(wc)
			}
		}, func(c net.Conn) {
			wc, err := gorillaUpgrade(c)
			if err != nil {
				return
			}
			wc.ReadMessage()
		}},
		{"gobwas", true, func(c net.Conn) {
			if _, err := gobwas.Upgrade(c); err != nil {
				return
			}
			br := bufio.NewReader(c)
			bw := bufio.NewWriter(c)
			payload := make([]byte, 128<<10)
			for {
				h, err := gobwas.ReadHeader(br)
				if err != nil {
					return
				}
				p := payload[:h.Length]
				if _, err := io.ReadFull(br, p); err != nil {
					return
				}
				gobwas.Cipher(p, h.Mask, 0)
				gobwas.WriteHeader(bw, gobwas.Header{Fin: true, OpCode: h.OpCode, Length: h.Length})
				bw.Write(p)
				bw.Flush()
			}
		}, func(c net.Conn) {
			if _, err := gobwas.Upgrade(c); err != nil {
				return
			}
			gobwas.ReadHeader(c)
		}},
		{"coder", true, func(c net.Conn) {
			httpUpgrade(c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wc, err := coder.Accept(w, r, &coder.AcceptOptions{InsecureSkipVerify: true})
				if err != nil {
					return
				}
				wc.SetReadLimit(1 << 20) // its default, 32 KiB, refuses the 64 KiB case
				ctx := context.Background()
				for {
					typ, rd, err := wc.Reader(ctx)
					if err != nil {
						return
					}
					wr, err := wc.Writer(ctx, typ)
					if err != nil {
						return
					}
					if _, err := io.Copy(wr, rd); err != nil || wr.Close() != nil {
						return
					}
				}
			}))
		}, func(c net.Conn) {
			httpUpgrade(c, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				wc, err := coder.Accept(w, r, &coder.AcceptOptions{InsecureSkipVerify: true})
				if err != nil {
					return
				}
				wc.Reader(context.Background())
			}))
		}},
		{"gws", true, gwsServe(gwsEcho{}, &gws.ServerOption{}), gwsServe(gwsIdle{}, &gws.ServerOption{})},
		{"x-net", true, func(c net.Conn) {
			httpUpgrade(c, xnet.Server{Handshake: func(*xnet.Config, *http.Request) error { return nil }, Handler: func(wc *xnet.Conn) {
				var msg []byte
				for {
					if err := xnet.Message.Receive(wc, &msg); err != nil {
						return
					}
					if err := xnet.Message.Send(wc, msg); err != nil {
						return
					}
				}
			}})
		}, func(c net.Conn) {
			httpUpgrade(c, xnet.Server{Handshake: func(*xnet.Config, *http.Request) error { return nil }, Handler: func(wc *xnet.Conn) {
				var one [1]byte
				wc.Read(one[:])
			}})
		}},
	}
}
