package handshake

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 §1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q", got)
	}
	if n := testing.AllocsPerRun(100, func() {
		var b [28]byte
		appendAccept(b[:0], []byte("dGhlIHNhbXBsZSBub25jZQ=="))
	}); n != 0 {
		t.Fatalf("appendAccept allocates %.1f times", n)
	}
}

const goodKey = "dGhlIHNhbXBsZSBub25jZQ=="

func request(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

func goodRequest(extra ...string) string {
	return request(append([]string{
		"GET /chat HTTP/1.1",
		"Host: server.example.com",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: " + goodKey,
		"Sec-WebSocket-Version: 13",
	}, extra...)...)
}

// replace returns the good request with the header named name replaced by
// line (dropped when line is "").
func replace(name, line string) string {
	lines := strings.Split(strings.TrimSuffix(goodRequest(), "\r\n\r\n"), "\r\n")
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)+":") || name == "" && strings.HasPrefix(l, "GET") {
			if line != "" {
				out = append(out, line)
			}
			continue
		}
		out = append(out, l)
	}
	return request(out...)
}

type answer struct {
	status int
	header http.Header
	body   string
}

// rawServer runs UpgradeConn on every connection to a loopback listener.
type rawServer struct {
	ln   net.Listener
	errs chan error
	wg   sync.WaitGroup
}

func startRaw(t *testing.T, u *Upgrader) *rawServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, errs: make(chan error, 100)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_, _, _, err := u.UpgradeConn(c, nil, false)
				s.errs <- err
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func send(t *testing.T, addr, req string) answer {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	go io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	var body []byte
	if resp.StatusCode != 101 {
		body, _ = io.ReadAll(resp.Body)
	}
	return answer{resp.StatusCode, resp.Header, string(body)}
}

var badHandshakes = []struct {
	name   string
	req    string
	status int
	err    error
	header string // "Name: value" the answer must carry
}{
	{"method POST", strings.Replace(goodRequest(), "GET", "POST", 1), 405, ErrMethod, "Allow: GET"},
	{"HTTP/1.0", strings.Replace(goodRequest(), "HTTP/1.1", "HTTP/1.0", 1), 400, ErrHTTPVersion, ""},
	{"no Host", replace("Host", ""), 400, ErrNoHost, ""},
	{"no Upgrade", replace("Upgrade", ""), 400, ErrNoUpgrade, ""},
	{"Upgrade h2c", replace("Upgrade", "Upgrade: h2c"), 400, ErrNoUpgrade, ""},
	{"no Connection", replace("Connection", ""), 400, ErrNoConnection, ""},
	{"Connection close", replace("Connection", "Connection: close"), 400, ErrNoConnection, ""},
	{"no version", replace("Sec-WebSocket-Version", ""), 426, ErrVersion, "Sec-Websocket-Version: 13"},
	{"version 8", replace("Sec-WebSocket-Version", "Sec-WebSocket-Version: 8"), 426, ErrVersion, "Sec-Websocket-Version: 13"},
	{"two versions", goodRequest("Sec-WebSocket-Version: 8"), 426, ErrVersion, "Sec-Websocket-Version: 13"},
	{"no key", replace("Sec-WebSocket-Key", ""), 400, ErrKey, ""},
	{"key of 15 bytes", replace("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA"), 400, ErrKey, ""},
	{"key of 17 bytes", replace("Sec-WebSocket-Key", "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAAA="), 400, ErrKey, ""},
	{"key not base64", replace("Sec-WebSocket-Key", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!=="), 400, ErrKey, ""},
	{"two keys", goodRequest("Sec-WebSocket-Key: " + goodKey), 400, ErrKey, ""},
	{"cross origin", goodRequest("Origin: https://evil.example"), 403, ErrOrigin, ""},
	{"null origin", goodRequest("Origin: null"), 403, ErrOrigin, ""},
	{"bad extension syntax", goodRequest("Sec-WebSocket-Extensions: permessage-deflate; =x"), 400, ErrExtensionSyntax, ""},
}

func TestBadHandshakesRaw(t *testing.T) {
	s := startRaw(t, &Upgrader{})
	for _, tc := range badHandshakes {
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, s.ln.Addr().String(), tc.req)
			checkAnswer(t, a, tc.status, tc.header)
			err := <-s.errs
			var rej *RejectError
			if !errors.As(err, &rej) || rej.Status != tc.status || !errors.Is(err, tc.err) {
				t.Fatalf("server error %v, want a RejectError %d wrapping %v", err, tc.status, tc.err)
			}
		})
	}
}

func TestBadHandshakesHTTP(t *testing.T) {
	errs := make(chan error, 100)
	u := &Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, _, err := u.Upgrade(w, r)
		if err == nil {
			c.Close()
		}
		errs <- err
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	for _, tc := range badHandshakes {
		if tc.name == "HTTP/1.0" || tc.name == "no Host" {
			continue // net/http answers these itself before the handler
		}
		t.Run(tc.name, func(t *testing.T) {
			a := send(t, addr, tc.req)
			checkAnswer(t, a, tc.status, tc.header)
			if err := <-errs; !errors.Is(err, tc.err) {
				t.Fatalf("Upgrade error %v, want %v", err, tc.err)
			}
		})
	}
}

func checkAnswer(t *testing.T, a answer, status int, header string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d (%q), want %d", a.status, a.body, status)
	}
	if a.body == "" {
		t.Fatalf("no reason in the body")
	}
	if header != "" {
		k, v, _ := strings.Cut(header, ": ")
		if got := a.header.Get(k); got != v {
			t.Fatalf("header %s = %q, want %q", k, got, v)
		}
	}
}

func TestHostileRequestsRaw(t *testing.T) {
	u := &Upgrader{Timeout: 300 * time.Millisecond}
	s := startRaw(t, u)
	addr := s.ln.Addr().String()

	t.Run("10000 headers", func(t *testing.T) {
		var b strings.Builder
		for i := 0; i < 10000; i++ {
			fmt.Fprintf(&b, "X-H%d: v\r\n", i)
		}
		a := send(t, addr, strings.Replace(goodRequest(), "\r\n\r\n", "\r\n"+b.String()+"\r\n", 1))
		if a.status != 431 {
			t.Fatalf("status %d", a.status)
		}
		<-s.errs
	})
	t.Run("1 MiB header", func(t *testing.T) {
		a := send(t, addr, goodRequest("X-Big: "+strings.Repeat("a", 1<<20)))
		if a.status != 431 {
			t.Fatalf("status %d", a.status)
		}
		<-s.errs
	})
	t.Run("backtracking bait", func(t *testing.T) {
		bait := strings.Repeat("a;", 5000) + "="
		start := time.Now()
		a := send(t, addr, goodRequest("Sec-WebSocket-Extensions: "+bait, "Sec-WebSocket-Protocol: "+strings.Repeat(", ", 3000)))
		if a.status != 400 {
			t.Fatalf("status %d", a.status)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v", d)
		}
		<-s.errs
	})
	t.Run("trickling client", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		req := goodRequest()
		start := time.Now()
		go func() {
			for i := 0; i < len(req); i++ {
				if _, err := c.Write([]byte{req[i]}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		if resp.StatusCode != 408 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("cut off after %v", d)
		}
		if err := <-s.errs; !errors.Is(err, ErrTimeout) {
			t.Fatalf("server error %v", err)
		}
	})
	// The server still answers after all of that.
	a := send(t, addr, goodRequest())
	if a.status != 101 {
		t.Fatalf("good request after attacks: %d", a.status)
	}
	<-s.errs
}

func TestGoodHandshake(t *testing.T) {
	u := &Upgrader{
		Subprotocols:   []string{"v2.chat", "chat"},
		OriginPatterns: []string{"*.example.org"},
		NegotiateExtensions: func(offers []Extension) ([]Extension, error) {
			for _, o := range offers {
				if o.Name == "x-test" {
					return []Extension{{Name: "x-test", Params: []Param{{Name: "p", Value: "1", HasValue: true}}}}, nil
				}
			}
			return nil, nil
		},
	}
	s := startRaw(t, u)
	a := send(t, s.ln.Addr().String(), goodRequest(
		"Origin: https://app.example.org",
		"Sec-WebSocket-Protocol: chat, superchat",
		"Sec-WebSocket-Protocol: v2.chat",
		"Sec-WebSocket-Extensions: foo, x-test; a=\"b\"",
	))
	if a.status != 101 {
		t.Fatalf("status %d %q", a.status, a.body)
	}
	for k, v := range map[string]string{
		"Upgrade":                  "websocket",
		"Connection":               "Upgrade",
		"Sec-Websocket-Accept":     "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		"Sec-Websocket-Protocol":   "v2.chat",
		"Sec-Websocket-Extensions": "x-test; p=1",
	} {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if err := <-s.errs; err != nil {
		t.Fatal(err)
	}
}

func TestHeaderTokensCaseAndLists(t *testing.T) {
	s := startRaw(t, &Upgrader{})
	a := send(t, s.ln.Addr().String(), request(
		"GET / HTTP/1.1",
		"host: h",
		"upgrade: WebSocket",
		"connection: keep-alive",
		"Connection: foo, UPGRADE",
		"sec-websocket-key: "+goodKey,
		"SEC-WEBSOCKET-VERSION: 13",
		"Origin: http://h",
	))
	if a.status != 101 {
		t.Fatalf("status %d %q", a.status, a.body)
	}
	<-s.errs
}

func TestDialAgainstUpgrader(t *testing.T) {
	u := &Upgrader{Subprotocols: []string{"b"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, n, err := u.Upgrade(w, r)
		if err != nil {
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "proto=%s", n.Subprotocol)
	}))
	defer srv.Close()
	d := &Dialer{Subprotocols: []string{"a", "b"}, NoProxy: true}
	conn, br, n, err := d.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/x?y=1")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if n.Subprotocol != "b" {
		t.Fatalf("subprotocol %q", n.Subprotocol)
	}
	got, _ := io.ReadAll(br)
	if string(got) != "proto=b" {
		t.Fatalf("bytes after the handshake: %q", got)
	}
}

func TestDialRejections(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(key string) string
		err    error
	}{
		{"404", func(string) string { return "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope" }, ErrBadStatus},
		{"bad accept", func(string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: xxx\r\n\r\n"
		}, ErrBadAccept},
		{"no upgrade", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(k) + "\r\n\r\n"
		}, ErrBadUpgrade},
		{"unoffered protocol", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(k) + "\r\nSec-WebSocket-Protocol: zzz\r\n\r\n"
		}, ErrSubprotocol},
		{"unoffered extension", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + AcceptKey(k) + "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
		}, ErrExtension},
		{"huge head", func(k string) string {
			return "HTTP/1.1 101 Switching Protocols\r\nX: " + strings.Repeat("a", 1<<20) + "\r\n\r\n"
		}, ErrHeaderTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				var h head
				if h.read(bufio.NewReader(c), 1<<16, 100) != nil {
					return
				}
				key, _ := h.get("Sec-WebSocket-Key")
				io.WriteString(c, tc.answer(string(key)))
				time.Sleep(100 * time.Millisecond)
			}()
			d := &Dialer{NoProxy: true}
			_, _, _, err = d.Dial(context.Background(), "ws://"+ln.Addr().String()+"/")
			if !errors.Is(err, tc.err) {
				t.Fatalf("Dial error %v, want %v", err, tc.err)
			}
			var se *StatusError
			if tc.err == ErrBadStatus && (!errors.As(err, &se) || se.Status != 404 || string(se.Body) != "nope") {
				t.Fatalf("status error %+v", se)
			}
		})
	}
}

func TestDialThroughProxy(t *testing.T) {
	// A minimal CONNECT proxy on loopback.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, _, err := (&Upgrader{}).Upgrade(w, r)
		if err == nil {
			io.WriteString(c, "hi")
			c.Close()
		}
	}))
	defer target.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	connects := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil || req.Method != "CONNECT" {
			return
		}
		connects <- req.Host
		up, err := net.Dial("tcp", req.Host)
		if err != nil {
			return
		}
		defer up.Close()
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		go io.Copy(up, br)
		io.Copy(c, up)
	}()
	proxyURL := "http://" + ln.Addr().String()
	d := &Dialer{Proxy: func(*http.Request) (*url.URL, error) { return url.Parse(proxyURL) }}
	conn, br, _, err := d.Dial(context.Background(), "ws://"+target.Listener.Addr().String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := <-connects; got != target.Listener.Addr().String() {
		t.Fatalf("CONNECT to %q", got)
	}
	if b, _ := io.ReadAll(br); string(b) != "hi" {
		t.Fatalf("through the proxy: %q", b)
	}
}

// TestUpgradeConnAllocs checks that a plain raw handshake allocates only
// what it returns (the request URI and Host strings).
func TestUpgradeConnAllocs(t *testing.T) {
	u := &Upgrader{Timeout: -1}
	req := []byte(goodRequest())
	c := &memConn{}
	br := bufio.NewReaderSize(c, 4096)
	n := testing.AllocsPerRun(200, func() {
		c.r.Reset(req)
		br.Reset(c)
		if _, _, _, err := u.UpgradeConn(c, br, false); err != nil {
			t.Fatal(err)
		}
	})
	if n > 2 {
		t.Fatalf("UpgradeConn allocates %.1f times", n)
	}
}

type memConn struct {
	r bytes.Reader
	net.Conn
}

func (c *memConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *memConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }
