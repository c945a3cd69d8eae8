package bench

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	gobwas "github.com/gobwas/ws"

	"github.com/duplexgo/duplex/ws"
)

// BenchmarkIdleMemory opens idleConns connections to each server, each
// server connection blocked reading as an idle one is, and reports the
// heap and stack per connection (KiB/conn), clients included. The clients
// are the same raw sockets for every server, so the differences are the
// servers'; "raw-tcp" (a goroutine blocked in Read) is the floor.
func BenchmarkIdleMemory(b *testing.B) {
	const idleConns = 1000
	servers := []struct {
		name  string
		ws    bool
		serve func(net.Conn)
	}{
		{"raw-tcp", false, func(c net.Conn) {
			var one [1]byte
			c.Read(one[:])
		}},
		{"duplex", true, func(c net.Conn) {
			wc, err := ws.UpgradeConn(c, nil)
			if err != nil {
				return
			}
			wc.ReadMessage(context.Background(), nil)
		}},
		{"gorilla", true, func(c net.Conn) {
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
			gobwas.ReadHeader(c)
		}},
	}
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			var wg sync.WaitGroup
			ready := make(chan struct{}, idleConns)
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						defer c.Close()
						ready <- struct{}{}
						s.serve(c)
					}()
				}
			}()
			clients := make([]net.Conn, 0, idleConns)
			defer func() {
				for _, c := range clients {
					c.Close()
				}
				ln.Close()
				wg.Wait()
			}()
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			for i := 0; i < idleConns; i++ {
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					b.Fatal(err)
				}
				clients = append(clients, c)
				if s.ws {
					io.WriteString(c, handshakeReq)
					if _, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil {
						b.Fatal(err)
					}
				}
				<-ready
			}
			time.Sleep(100 * time.Millisecond) // let every server goroutine block
			runtime.GC()
			runtime.ReadMemStats(&m1)
			for b.Loop() {
			}
			used := (m1.HeapInuse + m1.StackInuse) - (m0.HeapInuse + m0.StackInuse)
			b.ReportMetric(float64(used)/idleConns/1024, "KiB/conn")
		})
	}
}
