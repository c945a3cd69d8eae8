package comet

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzRequests sends arbitrary bodies, acks and ids to send and poll: the
// server answers with one of the documented statuses and never panics.
func FuzzRequests(f *testing.F) {
	f.Add(`[{"seq":1,"data":"x"}]`, "0", true)
	f.Add(`[{"seq":2,"data":"gap"}]`, "18446744073709551615", true)
	f.Add(`{"seq":1}`, "-1", false)
	f.Add(`[{"seq":1,"data":"\ud800"}]`, "x", true)
	srv := NewServer(Options{MaxBodyBytes: 4096, PollTimeout: 1}, nil)
	open := httptest.NewRecorder()
	srv.ServeHTTP(open, httptest.NewRequest("POST", "/c/open", nil))
	id := strings.Split(strings.Split(open.Body.String(), `"id":"`)[1], `"`)[0]
	f.Fuzz(func(t *testing.T, body, ack string, knownID bool) {
		sid := "nope"
		if knownID {
			sid = id
		}
		q := "?id=" + url.QueryEscape(sid) + "&ack=" + url.QueryEscape(ack)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("POST", "/c/send"+q, strings.NewReader(body)))
		switch w.Code {
		case http.StatusNoContent, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable, http.StatusNotFound:
		default:
			t.Fatalf("send answered %d: %q", w.Code, w.Body.String())
		}
		w = httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("GET", "/c/poll"+q+"&wait=0", nil))
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusNotFound:
		default:
			t.Fatalf("poll answered %d", w.Code)
		}
	})
}

// FuzzEngineIOPayload posts arbitrary polling payloads to an Engine.IO and
// a Socket.IO session: the answer is "ok", 400 (the session then ends) or
// 413, never a panic or a hang, and what the next poll returns is a
// well-formed payload.
func FuzzEngineIOPayload(f *testing.F) {
	f.Add("4hello\x1ebAQID\x1e3", false)
	f.Add("40\x1e42[\"message\",\"hi\"]\x1e427[\"chat\",1]", true)
	f.Add("40\x1e451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1ebAQ==", true)
	f.Add("40/admin,{}\x1e41", true)
	f.Add("452-[\"x\"]\x1eb\x1e1", true)
	f.Add("b!!\x1e9\x1e", false)
	drain := func(s *Session) {
		for {
			if _, err := s.Receive(context.Background()); err != nil {
				return
			}
		}
	}
	srv := NewServer(Options{MaxBodyBytes: 4096, PollTimeout: time.Millisecond, InboundLen: 4}, drain)
	handlers := map[bool]http.Handler{false: srv.EngineIO(EngineIOOptions{}), true: srv.EngineIO(EngineIOOptions{SocketIO: true})}
	f.Fuzz(func(t *testing.T, body string, socketIO bool) {
		h := handlers[socketIO]
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/e/?EIO=4&transport=polling", nil))
		sid := strings.Split(strings.Split(w.Body.String(), `"sid":"`)[1], `"`)[0]
		s, _ := srv.find(sid)
		defer s.Close("done")
		q := "/e/?EIO=4&transport=polling&sid=" + sid
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", q, strings.NewReader(body)))
		switch {
		case w.Code == http.StatusOK && w.Body.String() == "ok":
		case w.Code == http.StatusBadRequest:
			select {
			case <-s.Done():
			case <-time.After(time.Second):
				t.Fatal("400 but the session is still open")
			}
		case w.Code == http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("POST answered %d %q", w.Code, w.Body.String())
		}
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", q, nil))
		if w.Code != http.StatusOK {
			return // the session ended
		}
		for _, p := range strings.Split(w.Body.String(), "\x1e") {
			if p == "" || !strings.ContainsRune("123456b", rune(p[0])) {
				t.Fatalf("poll returned a malformed payload %q", w.Body.String())
			}
		}
	})
}

// FuzzSockJS sends arbitrary paths and xhr_send/jsonp_send bodies to a
// SockJS handler: only the protocol's statuses come back, and a poll
// afterwards answers with well-formed frames.
func FuzzSockJS(f *testing.F) {
	f.Add("/000/s/xhr_send", `["a","b"]`, false)
	f.Add("/000/s/jsonp_send", `d=%5B%22x%22%5D`, true)
	f.Add("/000/s/xhr_send", `["\ud800"]`, false)
	f.Add("/a./b/xhr", ``, false)
	f.Add("/iframe-1.2.html", ``, false)
	drain := func(s *Session) {
		for {
			if _, err := s.Receive(context.Background()); err != nil {
				return
			}
		}
	}
	srv := NewServer(Options{MaxBodyBytes: 4096, InboundLen: 4}, drain)
	h := srv.SockJS("/s", SockJSOptions{DisconnectDelay: time.Minute})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/s/000/s/xhr", nil))
	f.Fuzz(func(t *testing.T, path, body string, form bool) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?# ") || strings.Contains(path, "websocket") {
			return
		}
		if strings.HasSuffix(path, "/xhr") || strings.HasSuffix(path, "_streaming") || strings.HasSuffix(path, "/eventsource") ||
			strings.HasSuffix(path, "/htmlfile") || strings.HasSuffix(path, "/jsonp") {
			return // receiving connections are held open; the send side is what is fuzzed here
		}
		req := httptest.NewRequest("POST", "/s/", strings.NewReader(body))
		req.URL.Path = "/s" + path
		if form {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case 200, 204, 404, 405, 413, 500:
		default:
			t.Fatalf("POST %s answered %d %q", path, w.Code, w.Body.String())
		}
		srv.mu.Lock()
		s := h.(*sockjsHandler).byKey["s"]
		srv.mu.Unlock()
		s.Send(context.Background(), body) // so that the poll answers at once
		w = httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/s/000/s/xhr", nil))
		if b := w.Body.String(); !(strings.HasPrefix(b, "a[") || strings.HasPrefix(b, "c[")) || !strings.HasSuffix(b, "]\n") {
			t.Fatalf("poll answered %q", b)
		}
	})
}
