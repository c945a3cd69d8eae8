package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sse "github.com/tmaxmax/go-sse"

	"github.com/duplexgo/duplex/comet"
	"github.com/duplexgo/duplex/ws"
)

// idleConns is how many idle connections BenchmarkIdleMemory holds.
const idleConns = 10000

// TestMain lets the test binary double as the idle clients' process.
func TestMain(m *testing.M) {
	if addr := os.Getenv("DUPLEX_IDLE_CLIENT"); addr != "" {
		idleClients(addr, os.Getenv("DUPLEX_IDLE_WS") == "1")
		return
	}
	if base := os.Getenv("DUPLEX_IDLE_SESSIONS"); base != "" {
		idleSessions(base, os.Getenv("DUPLEX_IDLE_MODE"))
		return
	}
	raiseFileLimit()
	os.Exit(m.Run())
}

// raiseFileLimit lifts the soft limit on open files to the hard one: ten
// thousand connections need as many descriptors.
func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// idleClients opens idleConns connections to addr (handshaking when
// isWS), says "ready" on stdout, and holds them until stdin closes.
func idleClients(addr string, isWS bool) {
	raiseFileLimit()
	conns := make([]net.Conn, 0, idleConns)
	for i := 0; i < idleConns; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		if isWS {
			io.WriteString(c, handshakeReq)
			if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
				fmt.Println("handshake:", err)
				os.Exit(1)
			}
		}
		conns = append(conns, c)
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
}

// BenchmarkIdleMemory has a separate process open idleConns connections
// to each server, each server connection blocked reading as an idle one
// is, and reports the server's heap and stack per connection (KiB/conn).
// "raw-tcp" (a goroutine blocked in Read) is the floor.
func BenchmarkIdleMemory(b *testing.B) {
	for _, s := range contestants() {
		b.Run(s.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			accepted := make(chan struct{}, idleConns)
			var mu sync.Mutex
			var served []net.Conn
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					mu.Lock()
					served = append(served, c)
					mu.Unlock()
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer c.Close()
						accepted <- struct{}{}
						s.idle(c)
					}()
				}
			}()
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "DUPLEX_IDLE_CLIENT="+ln.Addr().String(), "DUPLEX_IDLE_WS="+map[bool]string{true: "1"}[s.ws])
			stdin, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() {
				stdin.Close()
				cmd.Wait()
				ln.Close()
				mu.Lock()
				for _, c := range served {
					c.Close()
				}
				mu.Unlock()
				wg.Wait()
			}()
			line, _ := bufio.NewReader(out).ReadString('\n')
			if line != "ready\n" {
				b.Fatalf("idle clients: %q", line)
			}
			for i := 0; i < idleConns; i++ {
				<-accepted
			}
			time.Sleep(200 * time.Millisecond) // let every server goroutine block
			runtime.GC()
			runtime.ReadMemStats(&m1)
			for b.Loop() {
			}
			used := (m1.HeapInuse + m1.StackInuse) - (m0.HeapInuse + m0.StackInuse)
			b.ReportMetric(float64(used)/idleConns/1024, "KiB/conn")
		})
	}
}

// idleSessionCount is how many sessions BenchmarkCometIdleMemory holds.
const idleSessionCount = 2000

// idleSessions opens idleSessionCount comet sessions at base, each held
// by the transport mode names (a long poll, an event stream, a socket),
// says "ready", and holds them until stdin closes.
func idleSessions(base, mode string) {
	raiseFileLimit()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: idleSessionCount}}
	var held []io.Closer
	for i := 0; i < idleSessionCount; i++ {
		var url string
		if mode == "go-sse" {
			url = base + "/"
		} else {
			id, err := openSession(client, base+"/comet")
			if err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			url = base + "/comet/" + mode + "?id=" + id
		}
		if mode == "ws" {
			c, err := ws.Dial(context.Background(), "ws"+strings.TrimPrefix(url, "http"), nil)
			if err != nil {
				fmt.Println("dial:", err)
				os.Exit(1)
			}
			held = append(held, closerFunc(func() error { return c.CloseNow() }))
			continue
		}
		// The answer to a long poll or a stream's first bytes may never
		// come: hold the request from a goroutine.
		started := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			close(started)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
		<-started
		held = append(held, closerFunc(func() error { cancel(); return nil }))
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range held {
		c.Close()
	}
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// BenchmarkCometIdleMemory holds 2,000 idle comet sessions, opened by a
// separate process, on each transport (a held long poll, an SSE stream, a
// WebSocket) and reports the server's heap and stack per session; go-sse
// holding as many idle SSE streams is the reference. The HTTP transports
// include what net/http keeps per held request (its goroutine and
// buffers).
func BenchmarkCometIdleMemory(b *testing.B) {
	for _, mode := range []string{"poll", "sse", "ws", "go-sse"} {
		b.Run(mode, func(b *testing.B) {
			var h http.Handler
			var count func() int
			if mode == "go-sse" {
				var n atomic.Int64
				srv := &sse.Server{OnSession: func(w http.ResponseWriter, r *http.Request) ([]string, bool) {
					n.Add(1)
					return []string{sse.DefaultTopic}, true
				}}
				h, count = srv, func() int { return int(n.Load()) }
			} else {
				srv := comet.NewServer(comet.Options{MaxSessions: idleSessionCount * 2, PollTimeout: time.Hour, Heartbeat: time.Hour, SessionTimeout: time.Hour}, nil)
				defer srv.Shutdown(context.Background(), "")
				mux := http.NewServeMux()
				mux.Handle("/comet/", srv)
				h = mux
				count = func() int {
					st := srv.Stats()
					return st.ByTransport[map[string]string{"poll": "poll", "sse": "sse", "ws": "websocket"}[mode]]
				}
			}
			ts := httptest.NewUnstartedServer(h)
			ts.Config.ErrorLog = log.New(io.Discard, "", 0)
			ts.Start()
			defer ts.Close()
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), "DUPLEX_IDLE_SESSIONS="+ts.URL, "DUPLEX_IDLE_MODE="+mode)
			stdin, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			defer func() { stdin.Close(); cmd.Wait() }()
			if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
				b.Fatalf("idle sessions: %q", line)
			}
			deadline := time.Now().Add(30 * time.Second)
			for count() < idleSessionCount && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := count(); n < idleSessionCount {
				b.Fatalf("%d of %d sessions held", n, idleSessionCount)
			}
			time.Sleep(200 * time.Millisecond)
			runtime.GC()
			runtime.ReadMemStats(&m1)
			for b.Loop() {
			}
			used := (m1.HeapInuse + m1.StackInuse) - (m0.HeapInuse + m0.StackInuse)
			b.ReportMetric(float64(used)/idleSessionCount/1024, "KiB/conn")
		})
	}
}
