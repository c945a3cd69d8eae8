// Command echoserver is the server the Autobahn testsuite's fuzzingclient
// tests: it echoes every message on ws://ADDR/.
//
//	go run ./autobahn/echoserver -addr 127.0.0.1:9001 -compress
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/duplexgo/duplex/autobahn/echo"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9001", "listen address")
	compress := flag.Bool("compress", true, "accept permessage-deflate")
	flag.Parse()
	srv := &http.Server{
		Addr:              *addr,
		Handler:           echo.Handler(*compress),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	log.Printf("echo server on ws://%s/ (compression %v)", *addr, *compress)
	log.Fatal(srv.ListenAndServe())
}
