package interop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duplexgo/duplex/ws"
)

// demoFigure is one row of the demo page's table (window.demoFigures()).
type demoFigure struct {
	Transport           string
	Messages            int
	LatencyAvgMs        float64
	LatencyMaxMs        float64
	RequestsPerMessage  float64
	BytesDownPerMessage float64
	BytesUpPerMessage   float64
}

// TestDemoInChromium runs the demo server as the README does (the
// binary, default page) and opens it in headless Chromium driven over the
// DevTools protocol: every transport's row must fill with live messages.
//
// With DUPLEX_DEMO_SHOT=dir it runs for DUPLEX_DEMO_SECONDS (default 30)
// and writes dir/demo.png and dir/demo-figures.md: how the README's
// screenshot and figures are made (make demo-shot).
func TestDemoInChromium(t *testing.T) {
	bin := requireTool(t, "chromium")
	shotDir := os.Getenv("DUPLEX_DEMO_SHOT")
	seconds := 6
	if shotDir != "" {
		seconds = 30
		if s, err := strconv.Atoi(os.Getenv("DUPLEX_DEMO_SECONDS")); err == nil && s > 0 {
			seconds = s
		}
	}
	tmp := t.TempDir()
	demo := filepath.Join(tmp, "duplex")
	if out, err := exec.Command("go", "build", "-o", demo, "github.com/duplexgo/duplex/cmd/duplex").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	addr := freeAddr(t)
	srv := exec.Command(demo, "serve", "-addr", addr)
	srv.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-srv.Process.Pid, syscall.SIGKILL); srv.Wait() }()
	waitListening(t, addr)

	page := startDevTools(t, bin, "http://"+addr+"/", tmp)
	defer page.close()

	deadline := time.Now().Add(time.Duration(seconds+30) * time.Second)
	time.Sleep(time.Duration(seconds) * time.Second)
	var figs []demoFigure
	for {
		var raw string
		if err := page.eval("JSON.stringify(window.demoFigures ? demoFigures() : [])", &raw); err != nil {
			t.Fatal(err)
		}
		json.Unmarshal([]byte(raw), &figs)
		ok := len(figs) == 6
		for _, f := range figs {
			ok = ok && f.Messages >= 4 && f.RequestsPerMessage > 0 && f.BytesDownPerMessage > 0
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo's rows did not fill: %+v", figs)
		}
		time.Sleep(time.Second)
	}
	for _, f := range figs {
		t.Logf("%-22s %4d msgs  latency avg %6.1f ms max %5.0f ms  %.2f req/msg  %5.0f B down  %5.0f B up",
			f.Transport, f.Messages, f.LatencyAvgMs, f.LatencyMaxMs, f.RequestsPerMessage, f.BytesDownPerMessage, f.BytesUpPerMessage)
		if f.Transport != "short polling (1 s)" && f.LatencyAvgMs > 500 {
			t.Errorf("%s: average latency %.0f ms for a push transport", f.Transport, f.LatencyAvgMs)
		}
	}
	if shotDir == "" {
		return
	}
	var shot struct{ Data string }
	if err := page.call("Page.captureScreenshot", map[string]any{"format": "png"}, &shot); err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shotDir, "demo.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	var md strings.Builder
	fmt.Fprintf(&md, "| transport | messages | latency avg (ms) | latency max (ms) | requests / message | bytes down / message | bytes up / message |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, f := range figs {
		fmt.Fprintf(&md, "| %s | %d | %.1f | %.0f | %.2f | %.0f | %.0f |\n",
			f.Transport, f.Messages, f.LatencyAvgMs, f.LatencyMaxMs, f.RequestsPerMessage, f.BytesDownPerMessage, f.BytesUpPerMessage)
	}
	if err := os.WriteFile(filepath.Join(shotDir, "demo-figures.md"), []byte(md.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

// devToolsPage is a page of headless Chromium driven over the DevTools
// protocol (JSON messages on a WebSocket, through duplex's own client).
type devToolsPage struct {
	c     *ws.Conn
	next  int
	close func()
}

// startDevTools runs Chromium on url with remote debugging on a port of
// its choosing, and connects to the page.
func startDevTools(t *testing.T, bin, url, tmp string) *devToolsPage {
	t.Helper()
	profile := filepath.Join(tmp, "profile")
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--window-size=1100,1000", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--user-data-dir="+profile, url)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }
	var port string
	for i := 0; i < 200 && port == ""; i++ {
		if b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort")); err == nil {
			port, _, _ = strings.Cut(string(b), "\n")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var pageURL string
	for i := 0; i < 100 && pageURL == "" && port != ""; i++ {
		var targets []struct{ Type, URL, WebSocketDebuggerURL string }
		if resp, err := http.Get("http://127.0.0.1:" + port + "/json/list"); err == nil {
			json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		for _, tg := range targets {
			if tg.Type == "page" && strings.HasPrefix(tg.URL, url) {
				pageURL = tg.WebSocketDebuggerURL
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pageURL == "" {
		stop()
		t.Fatal("no DevTools page target")
	}
	c, err := ws.Dial(context.Background(), pageURL, &ws.DialOptions{Options: ws.Options{ReadLimit: 64 << 20}})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	return &devToolsPage{c: c, close: func() { c.CloseNow(); stop() }}
}

// call sends a DevTools command and decodes its result into out.
func (p *devToolsPage) call(method string, params any, out any) error {
	p.next++
	id := p.next
	req, _ := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.c.WriteMessage(ctx, ws.Text, req); err != nil {
		return err
	}
	for {
		_, msg, err := p.c.ReadMessage(ctx, nil)
		if err != nil {
			return err
		}
		var resp struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if json.Unmarshal(msg, &resp) != nil || resp.ID != id {
			continue // an event
		}
		if resp.Error != nil {
			return fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		return json.Unmarshal(resp.Result, out)
	}
}

// eval evaluates a JavaScript expression in the page.
func (p *devToolsPage) eval(expr string, out any) error {
	var r struct {
		Result struct{ Value json.RawMessage }
	}
	if err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &r); err != nil {
		return err
	}
	return json.Unmarshal(r.Result.Value, out)
}
