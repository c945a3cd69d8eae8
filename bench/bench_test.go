// Package bench measures duplex beside its Go peers in one run. It is its
// own module, so the peers never enter duplex's dependency graph. Run it
// with `make bench` (tabulated by cmd/benchtable) or go test -bench . here.
package bench

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gobwas "github.com/gobwas/ws"
	"github.com/gorilla/websocket"
	kflate "github.com/klauspost/compress/flate"
	xnet "golang.org/x/net/websocket"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/mask"
	"github.com/duplexgo/duplex/ws"
)

var maskSizes = []int{16, 125, 1 << 10, 16 << 10, 1 << 20}

func sizeName(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// BenchmarkMask compares masking with copy (the memory-speed bound) and
// gobwas/ws's exported masker, size by size, in one run.
func BenchmarkMask(b *testing.B) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for _, n := range maskSizes {
		buf := make([]byte, n)
		dst := make([]byte, n)
		b.Run("copy/"+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				copy(dst, buf)
			}
		})
		b.Run("duplex/"+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				mask.XOR(buf, key, 0)
			}
		})
		b.Run("gobwas/"+sizeName(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			for b.Loop() {
				gobwas.Cipher(buf, key, 0)
			}
		})
	}
}

// loopConn is an in-memory net.Conn whose reads replay one chunk of bytes
// forever and whose writes are discarded.
type loopConn struct {
	data []byte
	off  int
}

func (c *loopConn) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], c.data[c.off:])
		n += k
		c.off = (c.off + k) % len(c.data)
	}
	return n, nil
}
func (c *loopConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *loopConn) Close() error                     { return nil }
func (c *loopConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *loopConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *loopConn) SetDeadline(time.Time) error      { return nil }
func (c *loopConn) SetReadDeadline(time.Time) error  { return nil }
func (c *loopConn) SetWriteDeadline(time.Time) error { return nil }

// clientFrames returns n copies of a masked binary frame of size bytes.
func clientFrames(size, n int) []byte {
	var out []byte
	for i := 0; i < n; i++ {
		h := frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: int64(size)}
		out = frame.AppendHeader(out, h)
		out = append(out, bytes.Repeat([]byte{'x'}, size)...)
	}
	return out
}

const handshakeReq = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// hijackWriter is an http.ResponseWriter that hijacks to a given conn,
// handing on the reader the request was read through (nil: a new one).
type hijackWriter struct {
	conn net.Conn
	br   *bufio.Reader
	h    http.Header
}

// gorillaUpgrade reads a handshake request from c and upgrades it with
// gorilla, as net/http would, keeping any bytes read past the request.
func gorillaUpgrade(c net.Conn) (*websocket.Conn, error) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	up := websocket.Upgrader{}
	return up.Upgrade(&hijackWriter{conn: c, br: br}, req, nil)
}

func (w *hijackWriter) Header() http.Header {
	if w.h == nil {
		w.h = http.Header{}
	}
	return w.h
}
func (w *hijackWriter) Write(p []byte) (int, error) { return len(p), nil }

// WriteHeader sends the status line and headers, for libraries (coder)
// that answer the handshake through the ResponseWriter before hijacking.
func (w *hijackWriter) WriteHeader(code int) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", code, http.StatusText(code))
	w.Header().Write(&b)
	b.WriteString("\r\n")
	w.conn.Write(b.Bytes())
}
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	br := w.br
	if br == nil {
		br = bufio.NewReader(w.conn)
	}
	return w.conn, bufio.NewReadWriter(br, bufio.NewWriter(w.conn)), nil
}

func upgradeRequest() *http.Request {
	r, _ := http.ReadRequest(bufio.NewReader(strings.NewReader(handshakeReq)))
	return r
}

// coderConn upgrades conn with coder/websocket.
func coderConn(b *testing.B, conn net.Conn) *coder.Conn {
	c, err := coder.Accept(&hijackWriter{conn: conn}, upgradeRequest(), &coder.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.CloseNow() })
	return c
}

// xnetConn upgrades conn with golang.org/x/net/websocket, whose
// connection lives only as long as its handler: the handler hands it over
// and waits for the benchmark to end.
func xnetConn(b *testing.B, conn net.Conn) *xnet.Conn {
	got := make(chan *xnet.Conn, 1)
	done := make(chan struct{})
	b.Cleanup(func() { close(done) })
	srv := xnet.Server{Handshake: func(*xnet.Config, *http.Request) error { return nil }, Handler: func(c *xnet.Conn) {
		got <- c
		<-done
	}}
	go srv.ServeHTTP(&hijackWriter{conn: conn}, upgradeRequest())
	return <-got
}

// BenchmarkConnRead reads 16-byte client messages through each library's
// connection API from an in-memory stream.
func BenchmarkConnRead(b *testing.B) {
	const size = 16
	b.Run("duplex", func(b *testing.B) {
		c, err := ws.Upgrade(&hijackWriter{conn: &loopConn{data: clientFrames(size, 256)}}, upgradeRequest(), nil)
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 0, 64)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := c.ReadMessage(ctx, buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorilla", func(b *testing.B) {
		up := websocket.Upgrader{}
		c, err := up.Upgrade(&hijackWriter{conn: &loopConn{data: clientFrames(size, 256)}}, upgradeRequest(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			_, r, err := c.NextReader()
			if err != nil {
				b.Fatal(err)
			}
			var tmp [64]byte
			for {
				if _, err := r.Read(tmp[:]); err != nil {
					break
				}
			}
		}
	})
	b.Run("coder", func(b *testing.B) {
		c := coderConn(b, &loopConn{data: clientFrames(size, 256)})
		ctx := context.Background()
		var tmp [64]byte
		b.ReportAllocs()
		for b.Loop() {
			_, r, err := c.Reader(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for {
				if _, err := r.Read(tmp[:]); err != nil {
					break
				}
			}
		}
	})
	b.Run("x-net", func(b *testing.B) {
		c := xnetConn(b, &loopConn{data: clientFrames(size, 256)})
		var tmp [64]byte
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Read(tmp[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gobwas-raw", func(b *testing.B) {
		br := bufio.NewReader(&loopConn{data: clientFrames(size, 256)})
		payload := make([]byte, 64)
		b.ReportAllocs()
		for b.Loop() {
			h, err := gobwas.ReadHeader(br)
			if err != nil {
				b.Fatal(err)
			}
			p := payload[:h.Length]
			io.ReadFull(br, p)
			gobwas.Cipher(p, h.Mask, 0)
		}
	})
}

// BenchmarkConnWrite writes 16-byte server messages through each
// library's connection API to a discarding conn.
func BenchmarkConnWrite(b *testing.B) {
	msg := bytes.Repeat([]byte{'x'}, 16)
	b.Run("duplex", func(b *testing.B) {
		c, err := ws.Upgrade(&hijackWriter{conn: &loopConn{data: []byte{0}}}, upgradeRequest(), nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := c.WriteMessage(ctx, ws.Binary, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gorilla", func(b *testing.B) {
		up := websocket.Upgrader{}
		c, err := up.Upgrade(&hijackWriter{conn: &loopConn{data: []byte{0}}}, upgradeRequest(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("coder", func(b *testing.B) {
		c := coderConn(b, &loopConn{data: []byte{0}})
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Write(ctx, coder.MessageBinary, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("x-net", func(b *testing.B) {
		c := xnetConn(b, &loopConn{data: []byte{0}})
		c.PayloadType = xnet.BinaryFrame
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("gobwas-raw", func(b *testing.B) {
		w := bufio.NewWriter(&loopConn{data: []byte{0}})
		b.ReportAllocs()
		for b.Loop() {
			gobwas.WriteFrame(w, gobwas.NewBinaryFrame(msg))
			w.Flush()
		}
	})
}

// echoServer starts a loopback server running serve on each connection.
func echoServer(b *testing.B, serve func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); serve(c) }()
		}
	}()
	return ln.Addr().String()
}

// dialEcho connects to a contestant's server and, for a WebSocket one,
// does the handshake; the client is the same raw socket for every server.
func dialEcho(b *testing.B, addr string, isWS bool) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	br := bufio.NewReaderSize(c, 128<<10)
	if isWS {
		io.WriteString(c, handshakeReq)
		if _, err := http.ReadResponse(br, nil); err != nil {
			b.Fatal(err)
		}
	}
	return c, br
}

// echoBytes returns what the client sends for n messages of size bytes,
// and how many bytes the echoes take.
func echoBytes(size, n int, isWS bool) (out []byte, back int) {
	if !isWS {
		return bytes.Repeat([]byte{'x'}, size*n), size * n
	}
	return clientFrames(size, n), n * ((&frame.Header{Length: int64(size)}).Size() + size)
}

// BenchmarkEchoPingPong sends one message and waits for its echo, with
// the same raw client for every server; "raw-tcp" echoes the same bytes
// with no WebSocket parsing (the floor on this machine).
func BenchmarkEchoPingPong(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10} {
		for _, s := range contestants() {
			b.Run(fmt.Sprintf("%s/%s", sizeName(size), s.name), func(b *testing.B) {
				c, br := dialEcho(b, echoServer(b, s.echo), s.ws)
				out, back := echoBytes(size, 1, s.ws)
				in := make([]byte, back)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Write(out); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(br, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// pipelineDepth is how many messages the pipelined echo keeps in flight.
const pipelineDepth = 64

// BenchmarkEchoPipelined sends 64 messages in one write and reads the 64
// echoes; one op is the batch. "raw-tcp" echoes each read in one write;
// duplex coalesces its replies (the default), duplex-immediate is duplex
// with Options.WriteImmediately (one write per reply, as the peers do).
func BenchmarkEchoPipelined(b *testing.B) {
	all := contestants()
	all = append(all[:2], append([]contestant{{name: "duplex-immediate", ws: true,
		echo: duplexEcho(&ws.ServerOptions{Options: ws.Options{WriteImmediately: true}})}}, all[2:]...)...)
	for _, size := range []int{16, 1 << 10} {
		for _, s := range all {
			b.Run(fmt.Sprintf("%s/%s", sizeName(size), s.name), func(b *testing.B) {
				c, br := dialEcho(b, echoServer(b, s.echo), s.ws)
				out, back := echoBytes(size, pipelineDepth, s.ws)
				in := make([]byte, back)
				b.SetBytes(int64(size * pipelineDepth))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Write(out); err != nil {
						b.Fatal(err)
					}
					if _, err := io.ReadFull(br, in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkEcho64Conns runs ping-pong on 64 connections at once; one op
// is one message echoed on any of them.
func BenchmarkEcho64Conns(b *testing.B) {
	const conns = 64
	for _, size := range []int{16, 1 << 10} {
		for _, s := range contestants() {
			b.Run(fmt.Sprintf("%s/%s", sizeName(size), s.name), func(b *testing.B) {
				addr := echoServer(b, s.echo)
				type client struct {
					c  net.Conn
					br *bufio.Reader
				}
				cs := make([]client, conns)
				for i := range cs {
					cs[i].c, cs[i].br = dialEcho(b, addr, s.ws)
				}
				out, back := echoBytes(size, 1, s.ws)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				b.ResetTimer()
				var left atomic.Int64
				left.Store(int64(b.N))
				var wg sync.WaitGroup
				for i := range cs {
					wg.Add(1)
					go func(cl client) {
						defer wg.Done()
						in := make([]byte, back)
						for left.Add(-1) >= 0 {
							if _, err := cl.c.Write(out); err != nil {
								return
							}
							if _, err := io.ReadFull(cl.br, in); err != nil {
								return
							}
						}
					}(cs[i])
				}
				wg.Wait()
			})
		}
	}
}

// BenchmarkFlate compares compress/flate with klauspost/compress/flate for
// what permessage-deflate does per message with context takeover: write
// the message, sync-flush, and inflate it on the other side.
func BenchmarkFlate(b *testing.B) {
	json := []byte(strings.Repeat(`{"id":12345,"name":"user-678","email":"user678@example.com","active":true,"tags":["a","b"]},`, 12))[:1024]
	var text bytes.Buffer
	for i := 0; text.Len() < 64<<10; i++ {
		fmt.Fprintf(&text, "line %d of a long text where words repeat and repeat, as prose does. ", i)
	}
	inputs := []struct {
		name string
		data []byte
	}{{"json-1KiB", json}, {"text-64KiB", text.Bytes()[:64<<10]}}
	type writer interface {
		io.Writer
		Flush() error
	}
	impls := []struct {
		name      string
		newWriter func(io.Writer) writer
	}{
		{"stdlib", func(w io.Writer) writer { fw, _ := flate.NewWriter(w, flate.BestSpeed); return fw }},
		{"klauspost", func(w io.Writer) writer { fw, _ := kflate.NewWriter(w, kflate.BestSpeed); return fw }},
	}
	for _, in := range inputs {
		for _, impl := range impls {
			b.Run(in.name+"/"+impl.name+"/compress", func(b *testing.B) {
				var out bytes.Buffer
				fw := impl.newWriter(&out)
				b.SetBytes(int64(len(in.data)))
				b.ReportAllocs()
				for b.Loop() {
					out.Reset()
					fw.Write(in.data)
					fw.Flush()
				}
				b.ReportMetric(float64(out.Len())/float64(len(in.data)), "ratio")
			})
		}
	}
}

// BenchmarkInflate compares the two inflaters on the same deflated message.
func BenchmarkInflate(b *testing.B) {
	var text bytes.Buffer
	for i := 0; text.Len() < 64<<10; i++ {
		fmt.Fprintf(&text, "line %d of a long text where words repeat and repeat, as prose does. ", i)
	}
	var comp bytes.Buffer
	fw, _ := flate.NewWriter(&comp, flate.BestSpeed)
	fw.Write(text.Bytes()[:64<<10])
	fw.Close()
	out := make([]byte, 70<<10)
	b.Run("stdlib", func(b *testing.B) {
		r := flate.NewReader(bytes.NewReader(comp.Bytes()))
		b.SetBytes(64 << 10)
		b.ReportAllocs()
		for b.Loop() {
			r.(flate.Resetter).Reset(bytes.NewReader(comp.Bytes()), nil)
			io.ReadFull(r, out[:64<<10])
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		r := kflate.NewReader(bytes.NewReader(comp.Bytes()))
		b.SetBytes(64 << 10)
		b.ReportAllocs()
		for b.Loop() {
			r.(kflate.Resetter).Reset(bytes.NewReader(comp.Bytes()), nil)
			io.ReadFull(r, out[:64<<10])
		}
	})
}
