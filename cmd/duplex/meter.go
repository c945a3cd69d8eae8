package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
)

// meter counts, per comet session, the HTTP requests and the bytes each
// way at the HTTP layer: request and status lines, headers and bodies, and
// every byte of a hijacked WebSocket. TCP/IP overhead is not included.
// The demo page reads the counts from /stats, so that it shows what each
// transport costs on the wire, not what the browser chooses to report.
type meter struct {
	mu       sync.Mutex
	sessions map[string]*usage
}

type usage struct {
	Requests     atomic.Int64
	BytesIn, Out atomic.Int64 // client to server, server to client
}

func newMeter() *meter { return &meter{sessions: map[string]*usage{}} }

func (m *meter) of(id string) *usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.sessions[id]
	if u == nil {
		if len(m.sessions) >= 10000 { // the demo is not a place to run out of memory
			clear(m.sessions)
		}
		u = &usage{}
		m.sessions[id] = u
	}
	return u
}

// wrap counts the requests of h that name a session (?id=).
func (m *meter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("id")
		if id == "" {
			h.ServeHTTP(w, r)
			return
		}
		u := m.of(id)
		u.Requests.Add(1)
		in := int64(len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto) + 2 + 2)
		for k, vs := range r.Header {
			for _, v := range vs {
				in += int64(len(k) + 2 + len(v) + 2)
			}
		}
		in += int64(len("Host: ") + len(r.Host) + 2)
		u.BytesIn.Add(in + max(r.ContentLength, 0))
		h.ServeHTTP(&meteredWriter{ResponseWriter: w, u: u}, r)
	})
}

// serveStats answers /stats?id=… with the session's counts.
func (m *meter) serveStats(w http.ResponseWriter, r *http.Request) {
	u := m.of(r.URL.Query().Get("id"))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]int64{
		"requests": u.Requests.Load(), "bytesIn": u.BytesIn.Load(), "bytesOut": u.Out.Load(),
	})
}

type meteredWriter struct {
	http.ResponseWriter
	u           *usage
	wroteHeader bool
}

func (w *meteredWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		n := len("HTTP/1.1 ") + 3 + 1 + len(http.StatusText(code)) + 2 + 2 + len("Date: Sun, 22 Nov 2026 00:00:00 GMT\r\n")
		for k, vs := range w.Header() {
			for _, v := range vs {
				n += len(k) + 2 + len(v) + 2
			}
		}
		w.u.Out.Add(int64(n))
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *meteredWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.u.Out.Add(int64(n + len(strconv.FormatInt(int64(n), 16)) + 4)) // a chunk: size line and CRLFs
	return n, err
}

func (w *meteredWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

// Hijack hands the WebSocket a connection that counts its bytes (what
// the server had already buffered was counted as the request's).
func (w *meteredWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.u.BytesIn.Add(int64(rw.Reader.Buffered()))
	return &meteredConn{Conn: c, u: w.u}, rw, nil
}

type meteredConn struct {
	net.Conn
	u *usage
}

func (c *meteredConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.u.BytesIn.Add(int64(n))
	return n, err
}

func (c *meteredConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.u.Out.Add(int64(n))
	return n, err
}
