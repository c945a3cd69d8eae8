package handshake_test

import (
	"log"
	"net"

	"github.com/duplexgo/duplex/handshake"
)

// A server that skips net/http: accept TCP connections and answer the
// WebSocket handshake on each, with a subprotocol and an origin pattern.
func ExampleUpgrader_UpgradeConn() {
	u := &handshake.Upgrader{
		Subprotocols:   []string{"chat.v2", "chat"},
		OriginPatterns: []string{"*.example.com"},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				br, req, n, err := u.UpgradeConn(conn, nil, false)
				if err != nil {
					conn.Close() // the client got 400/403/426/431 with the reason
					return
				}
				log.Printf("%s upgraded, subprotocol %q; frames follow in br (%d bytes buffered)",
					req.RequestURI, n.Subprotocol, br.Buffered())
				conn.Close()
			}()
		}
	}()
}

func ExampleAcceptKey() {
	println(handshake.AcceptKey("dGhlIHNhbXBsZSBub25jZQ==")) // s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
}
