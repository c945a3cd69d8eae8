package ws

import (
	"bufio"
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
	"github.com/duplexgo/duplex/mask"
)

// echoServer starts an httptest server whose handler echoes every message
// with ReadMessage/WriteMessage, and returns its ws:// URL.
func echoServer(t testing.TB, opts *ServerOptions) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, opts)
		if err != nil {
			return
		}
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(context.Background(), buf[:0])
			if err != nil {
				return
			}
			if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
				return
			}
			buf = msg
		}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

var messageSizes = []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20}

func randomBytes(rng *rand.Rand, n int, text bool) []byte {
	b := make([]byte, n)
	for i := range b {
		if text {
			b[i] = byte('a' + rng.IntN(26))
		} else {
			b[i] = byte(rng.Uint32())
		}
	}
	return b
}

func TestEchoSizes(t *testing.T) {
	for _, comp := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", comp), func(t *testing.T) {
			var co *CompressionOptions
			if comp {
				co = &CompressionOptions{}
			}
			url := echoServer(t, &ServerOptions{Options: Options{Compression: co}})
			c, err := Dial(context.Background(), url, &DialOptions{Options: Options{Compression: co}})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if c.Compressed() != comp {
				t.Fatalf("Compressed() = %v", c.Compressed())
			}
			rng := rand.New(rand.NewPCG(1, 1))
			for _, n := range messageSizes {
				for _, typ := range []MessageType{Text, Binary} {
					msg := randomBytes(rng, n, typ == Text || rng.IntN(2) == 0)
					if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
						t.Fatal(err)
					}
					gotTyp, got, err := c.ReadMessage(context.Background(), nil)
					if err != nil {
						t.Fatalf("size %d: %v", n, err)
					}
					if gotTyp != typ || !bytes.Equal(got, msg) {
						t.Fatalf("size %d %v: echo differs (got %d bytes, %v)", n, typ, len(got), gotTyp)
					}
				}
			}
			// Streaming both ways, with small fragments.
			for _, n := range []int{0, 7, 1000, 300000} {
				msg := randomBytes(rng, n, true)
				w, err := c.NextWriter(context.Background(), Text)
				if err != nil {
					t.Fatal(err)
				}
				for rest := msg; len(rest) > 0; {
					k := min(len(rest), 1+rng.IntN(5000))
					if _, err := w.Write(rest[:k]); err != nil {
						t.Fatal(err)
					}
					rest = rest[k:]
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				typ, r, err := c.NextReader(context.Background())
				if err != nil || typ != Text {
					t.Fatal(typ, err)
				}
				got, err := io.ReadAll(iotest.OneByteReader(r))
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("streamed %d: got %d bytes, %v", n, len(got), err)
				}
			}
			if err := c.Close(frame.CloseNormal, "done"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// rawClient is a handshake-only client that writes frames by hand.
type rawClient struct {
	t         *testing.T
	nc        net.Conn
	br        io.Reader
	sentClose bool
}

func dialRaw(t *testing.T, url string) *rawClient {
	d := &handshake.Dialer{NoProxy: true}
	nc, br, _, err := d.Dial(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, nc: nc, br: br}
}

func (r *rawClient) send(fin bool, rsv frame.RSV, op frame.Opcode, payload []byte) {
	h := frame.Header{Fin: fin, RSV: rsv, Opcode: op, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: int64(len(payload))}
	b := frame.AppendHeader(nil, h)
	start := len(b)
	b = append(b, payload...)
	mask.XOR(b[start:], h.Key, 0)
	r.nc.Write(b)
	if op == frame.OpClose {
		r.sentClose = true
	}
}

// next reads one frame from the server.
func (r *rawClient) next() (frame.Header, []byte, error) {
	var hb [frame.MaxHeaderSize]byte
	h, err := frame.ReadHeader(r.br, &hb)
	if err != nil {
		return h, nil, err
	}
	p := make([]byte, h.Length)
	_, err = io.ReadFull(r.br, p)
	return h, p, err
}

// closeCode reads frames until a Close and returns its code, then checks
// that the server closes the TCP connection.
func (r *rawClient) closeCode() frame.CloseCode {
	for {
		h, p, err := r.next()
		if err != nil {
			r.t.Fatalf("no Close frame: %v", err)
		}
		if h.Opcode == frame.OpClose {
			code, _, err := frame.ParseClose(p)
			if err != nil {
				r.t.Fatalf("invalid Close payload %x", p)
			}
			if !r.sentClose {
				r.send(true, 0, frame.OpClose, p[:2])
			}
			if _, err := r.br.Read(make([]byte, 1)); err != io.EOF {
				r.t.Fatalf("server did not close TCP after the closing handshake: %v", err)
			}
			return code
		}
	}
}

func TestProtocolViolations(t *testing.T) {
	url := echoServer(t, &ServerOptions{Options: Options{ReadLimit: 1000}})
	long := bytes.Repeat([]byte("x"), 126)
	for _, tc := range []struct {
		name string
		send func(r *rawClient)
		code frame.CloseCode
	}{
		{"reserved opcode 3", func(r *rawClient) { r.send(true, 0, 3, nil) }, 1002},
		{"reserved opcode 0xB", func(r *rawClient) { r.send(true, 0, 0xb, nil) }, 1002},
		{"RSV1 without extension", func(r *rawClient) { r.send(true, frame.RSV1, frame.OpText, []byte("a")) }, 1002},
		{"RSV2", func(r *rawClient) { r.send(true, frame.RSV2, frame.OpText, []byte("a")) }, 1002},
		{"RSV3 on ping", func(r *rawClient) { r.send(true, frame.RSV3, frame.OpPing, nil) }, 1002},
		{"ping of 126 bytes", func(r *rawClient) { r.send(true, 0, frame.OpPing, long) }, 1002},
		{"fragmented ping", func(r *rawClient) { r.send(false, 0, frame.OpPing, []byte("a")) }, 1002},
		{"continuation first", func(r *rawClient) { r.send(true, 0, frame.OpContinuation, []byte("a")) }, 1002},
		{"text inside fragmented", func(r *rawClient) {
			r.send(false, 0, frame.OpText, []byte("a"))
			r.send(true, 0, frame.OpText, []byte("b"))
		}, 1002},
		{"unmasked frame", func(r *rawClient) { r.nc.Write([]byte{0x81, 0x01, 'a'}) }, 1002},
		{"invalid UTF-8", func(r *rawClient) { r.send(true, 0, frame.OpText, []byte{0xce, 0xba, 0xed, 0xa0, 0x80}) }, 1007},
		{"invalid UTF-8 across fragments, first fragment", func(r *rawClient) {
			r.send(false, 0, frame.OpText, []byte{'a', 0xf4, 0x90})
		}, 1007},
		{"truncated UTF-8 at end", func(r *rawClient) { r.send(true, 0, frame.OpText, []byte{'a', 0xe2, 0x82}) }, 1007},
		{"message over the read limit", func(r *rawClient) { r.send(true, 0, frame.OpBinary, make([]byte, 1001)) }, 1009},
		{"fragments over the read limit", func(r *rawClient) {
			r.send(false, 0, frame.OpBinary, make([]byte, 600))
			r.send(true, 0, frame.OpContinuation, make([]byte, 600))
		}, 1009},
		{"huge length", func(r *rawClient) {
			r.nc.Write([]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4})
		}, 1009},
		{"length with top bit", func(r *rawClient) {
			r.nc.Write([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})
		}, 1002},
		{"close with one byte", func(r *rawClient) { r.send(true, 0, frame.OpClose, []byte{3}) }, 1002},
		{"close with code 1005", func(r *rawClient) { r.send(true, 0, frame.OpClose, []byte{0x03, 0xed}) }, 1002},
		{"close with code 999", func(r *rawClient) { r.send(true, 0, frame.OpClose, []byte{0x03, 0xe7}) }, 1002},
		{"close with invalid reason", func(r *rawClient) { r.send(true, 0, frame.OpClose, []byte{0x03, 0xe8, 0xff}) }, 1002},
		{"close 1000 echoed", func(r *rawClient) { r.send(true, 0, frame.OpClose, []byte{0x03, 0xe8}) }, 1000},
		{"close 4001 echoed", func(r *rawClient) { r.send(true, 0, frame.OpClose, []byte{0x0f, 0xa1, 'x'}) }, 4001},
		{"empty close answered 1000", func(r *rawClient) { r.send(true, 0, frame.OpClose, nil) }, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, url)
			tc.send(r)
			if got := r.closeCode(); got != tc.code {
				t.Fatalf("close code %v, want %v", got, tc.code)
			}
		})
	}
}

func TestPingPongAndInterleavedControl(t *testing.T) {
	url := echoServer(t, nil)
	r := dialRaw(t, url)
	r.send(true, 0, frame.OpPing, []byte("hello"))
	h, p, err := r.next()
	if err != nil || h.Opcode != frame.OpPong || string(p) != "hello" || h.Masked {
		t.Fatalf("pong: %+v %q %v", h, p, err)
	}
	// Unsolicited pong is ignored; a ping between fragments is answered at
	// once and the message still arrives whole.
	r.send(true, 0, frame.OpPong, []byte("x"))
	r.send(false, 0, frame.OpText, []byte("frag"))
	r.send(true, 0, frame.OpPing, []byte("mid"))
	h, p, err = r.next()
	if err != nil || h.Opcode != frame.OpPong || string(p) != "mid" {
		t.Fatalf("pong between fragments: %+v %q %v", h, p, err)
	}
	r.send(true, 0, frame.OpContinuation, []byte("ment"))
	h, p, err = r.next()
	if err != nil || h.Opcode != frame.OpText || string(p) != "fragment" {
		t.Fatalf("echo: %+v %q %v", h, p, err)
	}
	// 1-byte fragments.
	msg := "fragmented one byte at a time"
	for i := 0; i < len(msg); i++ {
		op := frame.OpContinuation
		if i == 0 {
			op = frame.OpBinary
		}
		r.send(i == len(msg)-1, 0, op, []byte{msg[i]})
	}
	h, p, err = r.next()
	if err != nil || h.Opcode != frame.OpBinary || string(p) != msg {
		t.Fatalf("echo of 1-byte fragments: %+v %q %v", h, p, err)
	}
	if code := func() frame.CloseCode { r.send(true, 0, frame.OpClose, []byte{0x03, 0xe8}); return r.closeCode() }(); code != 1000 {
		t.Fatalf("close %v", code)
	}
}

func TestClientPing(t *testing.T) {
	url := echoServer(t, nil)
	c, err := Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.ReadMessage(context.Background(), nil); err != nil {
				readErr <- err
				return
			}
		}
	}()
	for i := 0; i < 3; i++ {
		rtt, err := c.Ping(context.Background())
		if err != nil || rtt <= 0 {
			t.Fatalf("Ping: %v %v", rtt, err)
		}
	}
	if err := c.Close(frame.CloseGoingAway, "bye"); err != nil {
		t.Fatal(err)
	}
	err = <-readErr
	if CloseStatus(err) != frame.CloseGoingAway {
		t.Fatalf("reader saw %v", err)
	}
	if !errors.Is(err, net.ErrClosed) {
		t.Fatalf("close error does not unwrap to net.ErrClosed: %v", err)
	}
	if err := c.WriteMessage(context.Background(), Text, []byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestConcurrentWriters(t *testing.T) {
	url := echoServer(t, nil)
	c, err := Dial(context.Background(), url, &DialOptions{Options: Options{WriteBufferSize: 256}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				msg := bytes.Repeat([]byte{byte('a' + w)}, 100+i*13)
				if i%2 == 0 {
					c.WriteMessage(context.Background(), Binary, msg)
				} else {
					wr, _ := c.NextWriter(context.Background(), Binary)
					wr.Write(msg[:50])
					wr.Write(msg[50:])
					wr.Close()
				}
			}
		}()
	}
	go func() { wg.Wait() }()
	for i := 0; i < writers*each; i++ {
		_, got, err := c.ReadMessage(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || bytes.Count(got, got[:1]) != len(got) {
			t.Fatalf("message %d interleaved", i)
		}
	}
	wg.Wait()
}

func TestReadContextCancel(t *testing.T) {
	url := echoServer(t, nil)
	c, err := Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, err = c.ReadMessage(ctx, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ReadMessage: %v", err)
	}
	if _, _, err := c.ReadMessage(context.Background(), nil); err == nil {
		t.Fatal("read after a cancelled read succeeded")
	}
}

// TestNoGoroutineLeak opens and closes connections and checks that every
// goroutine they started has ended.
func TestNoGoroutineLeak(t *testing.T) {
	url := echoServer(t, &ServerOptions{Options: Options{PingInterval: time.Hour}})
	c0, _ := Dial(context.Background(), url, nil) // warm up the server's goroutines
	c0.Close(frame.CloseNormal, "")
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := 0; i < 20; i++ {
		c, err := Dial(context.Background(), url, &DialOptions{Options: Options{PingInterval: time.Hour, Compression: &CompressionOptions{}}})
		if err != nil {
			t.Fatal(err)
		}
		c.WriteMessage(context.Background(), Text, []byte("hi"))
		c.ReadMessage(context.Background(), nil)
		if err := c.Close(frame.CloseNormal, ""); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// pipePair returns a connected server and client Conn over loopback TCP.
func pipePair(t testing.TB, opts Options) (server, client *Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan *Conn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		c, err := UpgradeConn(nc, &ServerOptions{Options: opts})
		if err != nil {
			nc.Close()
		}
		ch <- c
	}()
	client, err = Dial(context.Background(), "ws://"+ln.Addr().String()+"/", &DialOptions{Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	server = <-ch
	if server == nil {
		t.Fatal("server upgrade failed")
	}
	t.Cleanup(func() { client.CloseNow(); server.CloseNow() })
	return server, client
}

func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector (sync.Pool drops items)")
	}
	server, client := pipePair(t, Options{})
	msg := []byte("sixteen byte msg")
	big := make([]byte, 8000)
	buf := make([]byte, 0, 16<<10)
	ctx := context.Background()
	read := make([]byte, 100)
	for name, f := range map[string]func(){
		"client write, server ReadMessage": func() {
			client.WriteMessage(ctx, Binary, msg)
			server.ReadMessage(ctx, buf[:0])
		},
		"server write, client ReadMessage": func() {
			server.WriteMessage(ctx, Text, msg)
			client.ReadMessage(ctx, buf[:0])
		},
		"8000 bytes both ways": func() {
			client.WriteMessage(ctx, Binary, big)
			server.ReadMessage(ctx, buf[:0])
			server.WriteMessage(ctx, Binary, big)
			client.ReadMessage(ctx, buf[:0])
		},
		"NextWriter and NextReader": func() {
			w, _ := client.NextWriter(ctx, Binary)
			w.Write(msg)
			w.Close()
			_, r, _ := server.NextReader(ctx)
			for {
				if _, err := r.Read(read); err != nil {
					break
				}
			}
		},
	} {
		f()
		if n := testing.AllocsPerRun(200, f); n != 0 {
			t.Errorf("%s: %.1f allocations per message", name, n)
		}
	}
}

func TestDecompressionBomb(t *testing.T) {
	server, client := pipePair(t, Options{ReadLimit: 1 << 20, Compression: &CompressionOptions{}})
	ctx := context.Background()
	// 10 MiB of zeros is about 10 KiB deflated; the server must stop at
	// its 1 MiB limit with 1009, without allocating 10 MiB.
	var zbuf bytes.Buffer
	fw, _ := flate.NewWriter(&zbuf, flate.BestCompression)
	fw.Write(make([]byte, 10<<20))
	fw.Flush()
	bomb := bytes.TrimSuffix(zbuf.Bytes(), []byte{0, 0, 0xff, 0xff})
	clientErr := make(chan error, 1)
	go func() {
		client.writeMu.Lock()
		client.writeFrameLocked(frame.OpBinary, true, frame.RSV1, bomb)
		client.writeMu.Unlock()
		_, _, err := client.ReadMessage(ctx, nil)
		clientErr <- err
	}()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	_, _, err := server.ReadMessage(ctx, nil)
	runtime.ReadMemStats(&ms1)
	if !errors.Is(err, frame.ErrMessageTooBig) {
		t.Fatalf("bomb of %d bytes: %v", len(bomb), err)
	}
	if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > 3<<20 {
		t.Fatalf("reading the bomb allocated %d bytes", grew)
	}
	if err := <-clientErr; CloseStatus(err) != frame.CloseMessageTooBig {
		t.Fatalf("client saw %v", err)
	}
}

func TestFrameLevelReader(t *testing.T) {
	server, client := pipePair(t, Options{WriteBufferSize: 256})
	ctx := context.Background()
	msg := bytes.Repeat([]byte("0123456789"), 60)
	w, _ := client.NextWriter(ctx, Binary)
	w.Write(msg)
	w.Close()
	var got []byte
	frames := 0
	for {
		f, r, err := server.NextFrame(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := io.ReadAll(r)
		if int64(len(p)) != f.Length {
			t.Fatalf("frame %d: %d bytes, header says %d", frames, len(p), f.Length)
		}
		if (frames == 0) != (f.Opcode == frame.OpBinary) {
			t.Fatalf("frame %d opcode %v", frames, f.Opcode)
		}
		got = append(got, p...)
		frames++
		if f.Fin {
			break
		}
	}
	if frames < 3 || !bytes.Equal(got, msg) {
		t.Fatalf("%d frames, %d bytes", frames, len(got))
	}
}

// TestReadThroughSmallReads feeds a stream of frames to a Conn through a
// one-byte and a half reader.
func TestReadThroughSmallReads(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var wire bytes.Buffer
	var want [][]byte
	for _, n := range messageSizes[:7] {
		for _, frag := range []int{0, 1, 7} {
			msg := randomBytes(rng, n, true)
			want = append(want, msg)
			pieces := [][]byte{msg}
			if frag > 0 && n > 0 {
				pieces = nil
				for rest := msg; len(rest) > 0; {
					k := min(frag, len(rest))
					pieces = append(pieces, rest[:k])
					rest = rest[k:]
				}
			}
			for i, p := range pieces {
				op := frame.OpContinuation
				if i == 0 {
					op = frame.OpText
				}
				h := frame.Header{Fin: i == len(pieces)-1, Opcode: op, Masked: true, Length: int64(len(p))}
				binary.LittleEndian.PutUint32(h.Key[:], rng.Uint32())
				wire.Write(frame.AppendHeader(nil, h))
				q := append([]byte(nil), p...)
				mask.XOR(q, h.Key, 0)
				wire.Write(q)
			}
		}
	}
	for name, wrap := range map[string]func(io.Reader) io.Reader{
		"OneByteReader": iotest.OneByteReader,
		"HalfReader":    iotest.HalfReader,
	} {
		t.Run(name, func(t *testing.T) {
			nc := &readerConn{r: wrap(bytes.NewReader(wire.Bytes()))}
			c := newConn(nc, false, nil, (&Options{}).withDefaults(), "")
			for i, msg := range want {
				var got []byte
				var err error
				if i%2 == 0 {
					_, got, err = c.ReadMessage(context.Background(), nil)
				} else {
					var r io.Reader
					_, r, err = c.NextReader(context.Background())
					if err == nil {
						got, err = io.ReadAll(iotest.OneByteReader(r))
					}
				}
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("message %d (%d bytes): got %d bytes, %v", i, len(msg), len(got), err)
				}
			}
		})
	}
}

// readerConn is a net.Conn that reads from r and discards writes.
type readerConn struct {
	r io.Reader
	net.Conn
}

func (c *readerConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *readerConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *readerConn) Close() error                     { return nil }
func (c *readerConn) SetReadDeadline(time.Time) error  { return nil }
func (c *readerConn) SetWriteDeadline(time.Time) error { return nil }
func (c *readerConn) SetDeadline(time.Time) error      { return nil }
func (c *readerConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *readerConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }

func TestCompressedSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	server, client := pipePair(t, Options{Compression: &CompressionOptions{}})
	ctx := context.Background()
	msg := bytes.Repeat([]byte(`{"id":1,"name":"duplex","tags":["a","b"]},`), 25)
	buf := make([]byte, 0, 4096)
	f := func() {
		client.WriteMessage(ctx, Text, msg)
		server.ReadMessage(ctx, buf[:0])
		server.WriteMessage(ctx, Text, msg)
		client.ReadMessage(ctx, buf[:0])
	}
	for i := 0; i < 10; i++ {
		f()
	}
	// Two messages each way per run, with context takeover: none allocates.
	if n := testing.AllocsPerRun(200, f); n > 0 {
		t.Errorf("%.1f allocations per compressed round trip", n)
	}
}

// TestKeepaliveDropsDeadPeer: a peer that completes the handshake and then
// sends nothing at all (no pongs either) is dropped after PingTimeout, and
// a peer that answers pings is kept.
func TestKeepaliveDropsDeadPeer(t *testing.T) {
	ended := make(chan error, 2)
	url := func() string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := Upgrade(w, r, &ServerOptions{Options: Options{PingInterval: 100 * time.Millisecond, PingTimeout: 300 * time.Millisecond}})
			if err != nil {
				return
			}
			_, _, err = c.ReadMessage(context.Background(), nil)
			ended <- err
		}))
		t.Cleanup(srv.Close)
		return "ws" + strings.TrimPrefix(srv.URL, "http")
	}()
	// A live client: its reader answers the pings.
	live, err := Dial(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer live.CloseNow()
	go live.ReadMessage(context.Background(), nil)
	// A dead one: handshake only.
	dead := dialRaw(t, url)
	start := time.Now()
	select {
	case err := <-ended:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("dead peer's connection ended with %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("dead peer dropped after %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("dead peer not dropped")
	}
	_ = dead
	select {
	case err := <-ended:
		t.Fatalf("live peer dropped too: %v", err)
	case <-time.After(time.Second):
	}
}

// TestDeclaredLengthDoesNotAllocate: a frame header announcing 16 MiB
// followed by a trickle of bytes costs memory for the bytes that came, not
// for the length announced.
func TestDeclaredLengthDoesNotAllocate(t *testing.T) {
	url := echoServer(t, nil)
	r := dialRaw(t, url)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	h := frame.Header{Fin: true, Opcode: frame.OpBinary, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: 16 << 20}
	r.nc.Write(frame.AppendHeader(nil, h))
	r.nc.Write(make([]byte, 10))
	time.Sleep(200 * time.Millisecond)
	runtime.ReadMemStats(&ms1)
	if grew := ms1.TotalAlloc - ms0.TotalAlloc; grew > 1<<20 {
		t.Fatalf("a declared 16 MiB frame with 10 bytes sent allocated %d bytes", grew)
	}
}

// TestContextAlreadyDoneKeepsConnUsable: a read with a cancelled context
// that is served from buffered data succeeds, and later reads with a live
// context are not hit by a deadline left in the past.
func TestContextAlreadyDoneKeepsConnUsable(t *testing.T) {
	server, client := pipePair(t, Options{})
	ctx := context.Background()
	client.WriteMessage(ctx, Text, []byte("one"))
	client.WriteMessage(ctx, Text, []byte("two"))
	time.Sleep(50 * time.Millisecond) // both frames arrive in one read
	if _, msg, err := server.ReadMessage(ctx, nil); err != nil || string(msg) != "one" {
		t.Fatalf("first: %q %v", msg, err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	// "two" may already be buffered; either outcome is allowed, but a
	// success must leave the connection usable.
	if _, msg, err := server.ReadMessage(cancelled, nil); err == nil {
		if string(msg) != "two" {
			t.Fatalf("second: %q", msg)
		}
		client.WriteMessage(ctx, Text, []byte("three"))
		if _, msg, err := server.ReadMessage(ctx, nil); err != nil || string(msg) != "three" {
			t.Fatalf("after a cancelled read that succeeded: %q %v", msg, err)
		}
	}
}

// countingConn counts Write calls on the connection it wraps.
type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestCoalesceWrites: by default, 64 pipelined messages are answered in
// one or two network writes instead of 64; a lone request is answered at
// once (no added latency); frames held back go out before a Close.
func TestCoalesceWrites(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	counted := make(chan *countingConn, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		cc := &countingConn{Conn: nc}
		c, err := UpgradeConn(cc, nil)
		if err != nil {
			return
		}
		counted <- cc
		ctx := context.Background()
		for {
			typ, msg, err := c.ReadMessage(ctx, nil)
			if err != nil {
				return
			}
			if string(msg) == "bye" {
				c.WriteMessage(ctx, typ, []byte("held"))
				c.Close(frame.CloseNormal, "done")
				return
			}
			c.WriteMessage(ctx, typ, msg)
		}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(nc)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v", err)
	}
	cc := <-counted
	frameOf := func(s string) []byte {
		h := frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}, Length: int64(len(s))}
		b := append(frame.AppendHeader(nil, h), s...)
		mask.XOR(b[len(b)-len(s):], h.Key, 0)
		return b
	}
	readText := func() string {
		h, err := frame.ReadHeader(br, new([frame.MaxHeaderSize]byte))
		if err != nil {
			t.Fatal(err)
		}
		p := make([]byte, h.Length)
		io.ReadFull(br, p)
		return string(p)
	}

	// A lone message: answered without more input from us.
	before := cc.writes.Load()
	nc.Write(frameOf("ping"))
	if got := readText(); got != "ping" {
		t.Fatalf("got %q", got)
	}
	if n := cc.writes.Load() - before; n != 1 {
		t.Fatalf("%d writes for one reply", n)
	}

	// 64 pipelined messages in one segment.
	var batch []byte
	for i := range 64 {
		batch = append(batch, frameOf(fmt.Sprintf("m%02d", i))...)
	}
	before = cc.writes.Load()
	nc.Write(batch)
	for i := range 64 {
		if got := readText(); got != fmt.Sprintf("m%02d", i) {
			t.Fatalf("reply %d: %q", i, got)
		}
	}
	if n := cc.writes.Load() - before; n > 2 {
		t.Fatalf("%d network writes for 64 pipelined replies, want 1 or 2", n)
	}
	t.Logf("64 pipelined replies in %d writes", cc.writes.Load()-before)

	// A reply held back (more input was buffered) goes before the Close.
	nc.Write(append(frameOf("bye"), frameOf("after")...))
	if got := readText(); got != "held" {
		t.Fatalf("got %q before the close", got)
	}
	h, err := frame.ReadHeader(br, new([frame.MaxHeaderSize]byte))
	if err != nil || h.Opcode != frame.OpClose {
		t.Fatalf("want the Close frame: %+v %v", h, err)
	}
}

// TestCoalesceDelayBound: a frame written by another goroutine while the
// reader sits on buffered input it does not read goes out within about
// CoalesceDelay; with WriteImmediately it goes out at once.
func TestCoalesceDelayBound(t *testing.T) {
	for _, immediate := range []bool{false, true} {
		server, client := pipePair(t, Options{WriteImmediately: immediate})
		ctx := context.Background()
		// Two messages in one write: after reading the first, the server
		// holds the second unread.
		client.writeMu.Lock()
		both := append(frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Length: 1}), 'a')
		both = append(append(both, frame.AppendHeader(nil, frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Length: 1})...), 'b')
		client.nc.Write(both)
		client.writeMu.Unlock()
		if _, m, err := server.ReadMessage(ctx, nil); err != nil || string(m) != "a" {
			t.Fatalf("read %q %v", m, err)
		}
		start := time.Now()
		go server.WriteMessage(ctx, Text, []byte("from elsewhere"))
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, m, err := client.ReadMessage(rctx, nil)
		cancel()
		if err != nil || string(m) != "from elsewhere" {
			t.Fatalf("client read %q %v", m, err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("immediate=%v: the frame waited %v", immediate, d)
		}
		server.CloseNow()
		client.CloseNow()
	}
}
