package main

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/ws"
)

// TestServeEcho starts the demo server as the README runs it and echoes a
// message through it.
func TestServeEcho(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	go serve([]string{"-addr", addr})
	var c *ws.Conn
	for i := 0; i < 50; i++ {
		if c, err = ws.Dial(context.Background(), "ws://"+addr+"/ws", nil); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.WriteMessage(context.Background(), ws.Text, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	_, got, err := c.ReadMessage(context.Background(), nil)
	if err != nil || string(got) != "hello" {
		t.Fatalf("echo %q, %v", got, err)
	}
	c.Close(frame.CloseNormal, "")
	if !bytes.Contains(indexHTML, []byte("new WebSocket")) {
		t.Fatal("embedded page missing")
	}
}
