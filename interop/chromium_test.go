package interop

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/duplexgo/duplex/ws"
)

// chromiumPage runs in the browser: it echoes text, binary and large
// messages through the duplex server, closes with 4003 and posts what it
// saw to /result.
const chromiumPage = `<!doctype html><meta charset=utf-8><title>duplex interop</title><script>
(async () => {
  const report = (r) => fetch('/result', {method: 'POST', body: JSON.stringify(r)});
  try {
    const ws = new WebSocket('ws://' + location.host + '/ws');
    ws.binaryType = 'arraybuffer';
    const next = () => new Promise((res, rej) => { ws.onmessage = (e) => res(e.data); ws.onerror = rej; });
    await new Promise((res, rej) => { ws.onopen = res; ws.onerror = rej; });
    const results = {extensions: ws.extensions, echoes: 0};
    const text = 'κόσμε € 𝄞 ' + 'x'.repeat(70000);
    const big = new Uint8Array(1 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;
    const cases = ['hello', text, new Uint8Array([0, 1, 2, 255]).buffer, big.buffer, ''];
    for (const c of cases) {
      const p = next();
      ws.send(c);
      const got = await p;
      if (typeof c === 'string') {
        if (got !== c) throw new Error('text echo differs at ' + results.echoes);
      } else {
        const a = new Uint8Array(c), b = new Uint8Array(got);
        if (a.length !== b.length || a.some((v, i) => v !== b[i])) throw new Error('binary echo differs at ' + results.echoes);
      }
      results.echoes++;
    }
    const closed = new Promise((res) => { ws.onclose = (e) => res(e); });
    ws.close(4003, 'browser done');
    const e = await closed;
    results.closeCode = e.code;
    results.wasClean = e.wasClean;
    await report(results);
  } catch (err) {
    await report({error: String(err)});
  }
})();
</script>`

type browserResult struct {
	Error      string `json:"error"`
	Extensions string `json:"extensions"`
	Echoes     int    `json:"echoes"`
	CloseCode  int    `json:"closeCode"`
	WasClean   bool   `json:"wasClean"`
}

func TestChromium(t *testing.T) {
	bin := requireTool(t, "chromium")
	results := make(chan browserResult, 1)
	serverEnd := make(chan error, 1)
	compressed := make(chan bool, 1)
	opts := &ws.ServerOptions{Options: ws.Options{Compression: &ws.CompressionOptions{}}}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, chromiumPage)
	})
	mux.HandleFunc("/result", func(w http.ResponseWriter, r *http.Request) {
		var res browserResult
		json.NewDecoder(r.Body).Decode(&res)
		select {
		case results <- res:
		default:
		}
	})
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		c, err := ws.Upgrade(w, r, opts)
		if err != nil {
			serverEnd <- err
			return
		}
		compressed <- c.Compressed()
		defer c.CloseNow()
		var buf []byte
		for {
			typ, msg, err := c.ReadMessage(context.Background(), buf[:0])
			if err != nil {
				serverEnd <- err
				return
			}
			if err := c.WriteMessage(context.Background(), typ, msg); err != nil {
				serverEnd <- err
				return
			}
			buf = msg
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	defer startChromium(t, bin, srv.URL+"/")()

	var res browserResult
	select {
	case res = <-results:
	case <-time.After(60 * time.Second):
		t.Fatal("no result from the browser")
	}
	if res.Error != "" {
		t.Fatalf("browser: %s", res.Error)
	}
	if res.Echoes != 5 || res.CloseCode != 4003 || !res.WasClean {
		t.Fatalf("browser saw %+v", res)
	}
	if !strings.Contains(res.Extensions, "permessage-deflate") || !<-compressed {
		t.Fatalf("permessage-deflate not negotiated with Chromium: %q", res.Extensions)
	}
	if err := <-serverEnd; ws.CloseStatus(err) != 4003 {
		t.Fatalf("server saw %v", err)
	}
}

// startChromium runs headless Chromium on url with the flags this machine
// needs and a fresh profile, in a process group of its own, and returns a
// function that ends that group (and only it) and removes the profile.
func startChromium(t *testing.T, bin, url string) func() {
	t.Helper()
	profile, err := os.MkdirTemp("", "duplex-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, url)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		os.RemoveAll(profile)
	}
}
