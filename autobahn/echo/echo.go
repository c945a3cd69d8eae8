// Package echo holds the echo endpoints that the Autobahn testsuite drives:
// a server handler that echoes every message as it came, and a client
// driver that runs the cases of a fuzzing server.
package echo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/handshake"
	"github.com/duplexgo/duplex/ws"
)

// Limits for the testsuite: its 9.x cases send messages of up to 16 MiB.
const readLimit = 64 << 20

func options(compress bool) ws.Options {
	o := ws.Options{ReadLimit: readLimit, CloseTimeout: 2 * time.Second}
	if compress {
		o.Compression = &ws.CompressionOptions{}
	}
	return o
}

// Options returns the connection options of Handler.
func Options(compress bool) ws.Options { return options(compress) }

// Handler returns an http.Handler that upgrades every request and echoes
// each message back with the same type, streaming it so that a message is
// never held whole.
func Handler(compress bool) http.Handler {
	return HandlerWith(options(compress))
}

// HandlerWith is Handler with the connection options o, for running the
// suite against other configurations (write coalescing, say).
func HandlerWith(o ws.Options) http.Handler {
	opts := &ws.ServerOptions{
		Upgrader: handshake.Upgrader{InsecureSkipOriginCheck: true},
		Options:  o,
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Upgrade(w, r, opts)
		if err != nil {
			return
		}
		Loop(context.Background(), c)
	})
}

// Loop echoes messages on c until the connection ends, then closes it.
func Loop(ctx context.Context, c *ws.Conn) error {
	defer c.CloseNow()
	var buf []byte
	for {
		typ, msg, err := c.ReadMessage(ctx, buf[:0])
		if err != nil {
			return err
		}
		if err := c.WriteMessage(ctx, typ, msg); err != nil {
			return err
		}
		buf = msg
	}
}

// CaseCount asks a fuzzing server how many cases it has.
func CaseCount(ctx context.Context, base string) (int, error) {
	c, err := ws.Dial(ctx, base+"/getCaseCount", nil)
	if err != nil {
		return 0, err
	}
	defer c.CloseNow()
	_, msg, err := c.ReadMessage(ctx, nil)
	if err != nil {
		return 0, err
	}
	c.Close(frame.CloseNormal, "")
	return strconv.Atoi(strings.TrimSpace(string(msg)))
}

// RunCase runs case number n (1-based) of a fuzzing server as client
// agent, echoing until the server closes.
func RunCase(ctx context.Context, base string, n int, agent string, compress bool) error {
	u := fmt.Sprintf("%s/runCase?case=%d&agent=%s", base, n, url.QueryEscape(agent))
	c, err := ws.Dial(ctx, u, &ws.DialOptions{Options: options(compress)})
	if err != nil {
		return err
	}
	err = Loop(ctx, c)
	var fe frame.Error
	if ws.CloseStatus(err) != 0 || errors.As(err, &fe) {
		return nil // the case ended the connection, as cases do
	}
	return err
}

// UpdateReports asks the fuzzing server to write its reports for agent.
func UpdateReports(ctx context.Context, base, agent string) error {
	c, err := ws.Dial(ctx, base+"/updateReports?agent="+url.QueryEscape(agent), nil)
	if err != nil {
		return err
	}
	defer c.CloseNow()
	c.ReadMessage(ctx, nil) // the server closes when done
	return nil
}
