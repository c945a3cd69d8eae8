package comet

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
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
