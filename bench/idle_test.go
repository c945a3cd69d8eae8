package bench

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// idleConns is how many idle connections BenchmarkIdleMemory holds.
const idleConns = 10000

// TestMain lets the test binary double as the idle clients' process.
func TestMain(m *testing.M) {
	if addr := os.Getenv("DUPLEX_IDLE_CLIENT"); addr != "" {
		idleClients(addr, os.Getenv("DUPLEX_IDLE_WS") == "1")
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
