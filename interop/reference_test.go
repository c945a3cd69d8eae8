package interop

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/duplexgo/duplex/autobahn/suite"
)

// TestConformanceGorillaReference runs our conformance suite against
// gorilla/websocket's echo server as an outside reference and records its
// verdicts (reports land in DUPLEX_AUTOBAHN_REPORTS when set). gorilla is
// not held to every case; the test checks the families it is known to
// pass, so that a suite that fails everything is caught too.
func TestConformanceGorillaReference(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped in -short mode")
	}
	up := websocket.Upgrader{EnableCompression: true}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		c.SetReadLimit(64 << 20)
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				return
			}
			// gorilla leaves UTF-8 to the application; its own Autobahn
			// server checks it like this.
			if typ == websocket.TextMessage && !utf8.Valid(msg) {
				c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseInvalidFramePayloadData, ""), time.Now().Add(time.Second))
				return
			}
			if c.WriteMessage(typ, msg) != nil {
				return
			}
		}
	}))
	defer srv.Close()
	var cases []suite.Case
	for _, c := range suite.Cases(suite.Scale{SizeDiv: 16, CountDiv: 50}) {
		if !strings.HasPrefix(c.ID, "13.") && !strings.HasPrefix(c.ID, "12.") || strings.HasPrefix(c.ID, "12.1.") {
			cases = append(cases, c)
		}
	}
	results := suite.RunServer(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/", cases)
	dir := filepath.Join(t.TempDir(), "gorilla")
	if d := os.Getenv("DUPLEX_AUTOBAHN_REPORTS"); d != "" {
		dir = filepath.Join(d, "gorilla")
	}
	if err := suite.WriteReport(dir, "gorilla/websocket", results); err != nil {
		t.Fatal(err)
	}
	notOK := 0
	for _, r := range results {
		if !r.Passed() {
			notOK++
			t.Logf("gorilla: case %s: %s / %s", r.ID, r.Behavior, r.BehaviorClose)
			if strings.HasPrefix(r.ID, "1.") || strings.HasPrefix(r.ID, "2.") || strings.HasPrefix(r.ID, "9.") {
				t.Errorf("gorilla failed case %s, which it passes in the original suite", r.ID)
			}
		}
	}
	t.Logf("gorilla/websocket: %d cases, %d not OK\n%s", len(results), notOK, suite.Summary(results))
}
