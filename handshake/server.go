// Package handshake implements the WebSocket opening handshake of RFC 6455
// §4, for servers (Upgrader) and clients (Dialer), with subprotocol and
// extension negotiation.
//
// A server upgrades either from net/http (Upgrader.Upgrade, which hijacks
// the connection) or straight from a net.Conn for servers that skip
// net/http (Upgrader.UpgradeConn). Both check the request with the same
// rules and reject a bad one with an exact HTTP status and a short plain
// text reason; the Go error is a *RejectError carrying that status and a
// sentinel error for errors.Is.
//
// The result of a successful handshake is a net.Conn positioned just after
// the handshake, plus the bytes the peer already sent behind it (which a
// buffered reader may have consumed): pass both to the ws package, or use
// the ws package's Upgrade and Dial, which do this for you.
package handshake

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GUID is the fixed string of RFC 6455 §1.3 appended to the client's key.
const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a client's
// Sec-WebSocket-Key (RFC 6455 §4.2.2): base64 of the SHA-1 of key+GUID.
func AcceptKey(key string) string {
	var buf [28]byte
	return string(appendAccept(buf[:0], []byte(key)))
}

func appendAccept(dst []byte, key []byte) []byte {
	var sum [sha1.Size]byte
	if len(key) <= 24 {
		// Every valid key is 24 bytes: hash it from the stack.
		var in [24 + len(GUID)]byte
		n := copy(in[:], key)
		n += copy(in[n:], GUID)
		sum = sha1.Sum(in[:n])
	} else {
		sum = sha1.Sum(append(append([]byte(nil), key...), GUID...))
	}
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}

// Sentinel errors of the server side, each wrapped in a RejectError with
// the status the server answered.
var (
	ErrMethod         = errors.New("handshake: method is not GET")
	ErrHTTPVersion    = errors.New("handshake: HTTP version older than 1.1")
	ErrNoHost         = errors.New("handshake: missing Host")
	ErrNoUpgrade      = errors.New("handshake: Upgrade does not include websocket")
	ErrNoConnection   = errors.New("handshake: Connection does not include Upgrade")
	ErrVersion        = errors.New("handshake: unsupported Sec-WebSocket-Version")
	ErrKey            = errors.New("handshake: Sec-WebSocket-Key is not base64 of 16 bytes")
	ErrOrigin         = errors.New("handshake: origin not allowed")
	ErrTimeout        = errors.New("handshake: timed out")
	ErrExtensionParam = errors.New("handshake: extension negotiation failed")
	ErrHijack         = errors.New("handshake: connection cannot be hijacked")
)

// RejectError is a handshake the server refused. The server has already
// answered with Status, Reason and Header.
type RejectError struct {
	Status int         // HTTP status sent
	Reason string      // the plain-text body sent
	Header http.Header // extra response headers sent, such as Sec-WebSocket-Version
	Err    error       // one of the sentinel errors of this package
}

func (e *RejectError) Error() string {
	return e.Err.Error() + " (" + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ")"
}

// Unwrap returns the sentinel error.
func (e *RejectError) Unwrap() error { return e.Err }

// Defaults for the limits of the raw upgrade path.
const (
	DefaultMaxHeaderBytes   = 16 << 10
	DefaultMaxHeaders       = 100
	DefaultHandshakeTimeout = 10 * time.Second
)

// Upgrader holds the server's handshake policy. The zero value accepts
// WebSocket version 13 requests from same-origin browsers and from clients
// that send no Origin, with no subprotocol and no extension. An Upgrader
// must not be changed while in use, and is safe for concurrent use.
type Upgrader struct {
	// Subprotocols the server speaks, in order of preference. The first
	// of them that the client offered is chosen.
	Subprotocols []string
	// SelectSubprotocol, if set, replaces Subprotocols: it is given the
	// client's offers and returns one of them, or "" for none. An answer
	// the client did not offer is ignored.
	SelectSubprotocol func(offered []string) string

	// NegotiateExtensions, if set, is given the client's extension offers
	// in order and returns the extensions to accept, as they will be
	// written in the response. An error rejects the handshake with 400.
	// The ws package sets it to negotiate permessage-deflate.
	NegotiateExtensions func(offers []Extension) ([]Extension, error)

	// OriginPatterns are host patterns (path.Match syntax, such as
	// "*.example.com" or "localhost:8080") of origins accepted besides the
	// request's own host. A browser's cross-origin request is otherwise
	// refused with 403: this is the defence against cross-site WebSocket
	// hijacking.
	OriginPatterns []string
	// CheckOrigin, if set, replaces the origin check: it gets the Origin
	// value ("" if none) and the Host, and returns whether to accept.
	CheckOrigin func(origin, host string) bool
	// InsecureSkipOriginCheck accepts every origin. Only for servers whose
	// clients authenticate by something a browser does not send on its
	// own (not cookies).
	InsecureSkipOriginCheck bool

	// Header holds extra headers for the 101 response.
	Header http.Header

	// MaxHeaderBytes bounds the request head on the raw path
	// (DefaultMaxHeaderBytes if zero); a bigger request gets 431.
	// On the net/http path, set http.Server.MaxHeaderBytes.
	MaxHeaderBytes int
	// MaxHeaders bounds the header field count on the raw path
	// (DefaultMaxHeaders if zero); more get 431.
	MaxHeaders int
	// Timeout bounds the whole handshake on the raw path
	// (DefaultHandshakeTimeout if zero; negative for none): a client that
	// trickles its request is cut off. On the net/http path set
	// http.Server.ReadHeaderTimeout.
	Timeout time.Duration
}

// Negotiated is what a successful handshake settled.
type Negotiated struct {
	Subprotocol string      // chosen subprotocol, or ""
	Extensions  []Extension // accepted extensions, as sent in the response
}

// ServerRequest is the request information a raw upgrade keeps.
type ServerRequest struct {
	Method, RequestURI, Host, Origin string
	Header                           http.Header // every field, canonicalised
}

// requestView is how check reads a request's header fields: from
// net/http's parsed request or from a raw head, without allocating in the
// latter case.
type requestView interface {
	// get returns the first value of the field and how many there are.
	get(name string) (v []byte, count int)
	// anyToken reports whether some value of the field lists token.
	anyToken(name, token string) bool
	// appendValues appends every value of the field to dst.
	appendValues(dst [][]byte, name string) [][]byte
}

// check validates a request and returns the client's key, its subprotocol
// offers and its extension offers.
func (u *Upgrader) check(method []byte, major, minor int, host []byte, rv requestView) (key []byte, protocols []string, offers []Extension, rej *RejectError) {
	if string(method) != http.MethodGet {
		return nil, nil, nil, reject(http.StatusMethodNotAllowed, ErrMethod, "Allow", "GET")
	}
	if major < 1 || major == 1 && minor < 1 {
		return nil, nil, nil, reject(http.StatusBadRequest, ErrHTTPVersion)
	}
	if len(host) == 0 {
		return nil, nil, nil, reject(http.StatusBadRequest, ErrNoHost)
	}
	if !rv.anyToken("Upgrade", "websocket") {
		return nil, nil, nil, reject(http.StatusBadRequest, ErrNoUpgrade)
	}
	if !rv.anyToken("Connection", "upgrade") {
		return nil, nil, nil, reject(http.StatusBadRequest, ErrNoConnection)
	}
	if v, n := rv.get("Sec-WebSocket-Version"); n != 1 || string(v) != "13" {
		return nil, nil, nil, reject(http.StatusUpgradeRequired, ErrVersion, "Sec-WebSocket-Version", "13")
	}
	key, n := rv.get("Sec-WebSocket-Key")
	if n != 1 || !validKey(key) {
		return nil, nil, nil, reject(http.StatusBadRequest, ErrKey)
	}
	origin, n := rv.get("Origin")
	if n > 1 || n == 1 && !u.originAllowed(string(origin), string(host)) || n == 0 && u.CheckOrigin != nil && !u.CheckOrigin("", string(host)) {
		return nil, nil, nil, reject(http.StatusForbidden, ErrOrigin)
	}
	// appendValues allocates only when the field is present.
	for _, v := range rv.appendValues(nil, "Sec-WebSocket-Protocol") {
		for len(v) > 0 {
			var item []byte
			if item, v = nextListItem(v); len(item) > 0 {
				protocols = append(protocols, string(item))
			}
		}
	}
	var err error
	for _, v := range rv.appendValues(nil, "Sec-WebSocket-Extensions") {
		if offers, err = ParseExtensions(offers, string(v)); err != nil {
			return nil, nil, nil, reject(http.StatusBadRequest, err)
		}
	}
	return key, protocols, offers, nil
}

func reject(status int, err error, header ...string) *RejectError {
	e := &RejectError{Status: status, Err: err, Reason: strings.TrimPrefix(err.Error(), "handshake: ")}
	if len(header) == 2 {
		e.Header = http.Header{header[0]: {header[1]}}
	}
	return e
}

// validKey reports whether key is base64 of exactly 16 bytes (§4.2.1).
func validKey(key []byte) bool {
	if len(key) != 24 || key[22] != '=' || key[23] != '=' {
		return false
	}
	var dst [18]byte
	n, err := base64.StdEncoding.Decode(dst[:], key)
	return err == nil && n == 16
}

func (u *Upgrader) originAllowed(origin, host string) bool {
	if u.CheckOrigin != nil {
		return u.CheckOrigin(origin, host)
	}
	if u.InsecureSkipOriginCheck {
		return true
	}
	o, err := url.Parse(origin)
	if err != nil || o.Host == "" {
		return false // "null" and other opaque origins
	}
	if strings.EqualFold(o.Host, host) {
		return true
	}
	for _, p := range u.OriginPatterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(o.Host)); ok {
			return true
		}
	}
	return false
}

// negotiate picks the subprotocol and the extensions.
func (u *Upgrader) negotiate(protocols []string, offers []Extension) (Negotiated, *RejectError) {
	var n Negotiated
	if len(protocols) > 0 {
		if u.SelectSubprotocol != nil {
			if p := u.SelectSubprotocol(protocols); p != "" && contains(protocols, p) {
				n.Subprotocol = p
			}
		} else {
		pick:
			for _, mine := range u.Subprotocols {
				for _, p := range protocols {
					if p == mine {
						n.Subprotocol = p
						break pick
					}
				}
			}
		}
	}
	if len(offers) > 0 && u.NegotiateExtensions != nil {
		exts, err := u.NegotiateExtensions(offers)
		if err != nil {
			return n, reject(http.StatusBadRequest, errors.Join(ErrExtensionParam, err))
		}
		n.Extensions = exts
	}
	return n, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// appendResponse appends the 101 response.
func (u *Upgrader) appendResponse(dst []byte, key []byte, n Negotiated) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = appendAccept(dst, key)
	dst = append(dst, "\r\n"...)
	if n.Subprotocol != "" {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, n.Subprotocol...)
		dst = append(dst, "\r\n"...)
	}
	if len(n.Extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = append(dst, FormatExtensions(n.Extensions)...)
		dst = append(dst, "\r\n"...)
	}
	for k, vs := range u.Header {
		for _, v := range vs {
			dst = append(dst, k...)
			dst = append(dst, ": "...)
			dst = append(dst, v...)
			dst = append(dst, "\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}

// httpView adapts net/http's parsed header to requestView.
type httpView struct{ h http.Header }

func (v httpView) get(name string) ([]byte, int) {
	vs := v.h[http.CanonicalHeaderKey(name)]
	if len(vs) == 0 {
		return nil, 0
	}
	return []byte(vs[0]), len(vs)
}

func (v httpView) anyToken(name, token string) bool {
	for _, s := range v.h[http.CanonicalHeaderKey(name)] {
		if hasToken([]byte(s), token) {
			return true
		}
	}
	return false
}

func (v httpView) appendValues(dst [][]byte, name string) [][]byte {
	for _, s := range v.h[http.CanonicalHeaderKey(name)] {
		dst = append(dst, []byte(s))
	}
	return dst
}

// Upgrade performs the server handshake on a net/http request. On success
// it hijacks the connection, writes the 101 response and returns the
// connection and the bytes the client sent after its request (often none;
// they are the start of the WebSocket stream). On failure it has answered
// the client and returns a *RejectError.
//
// The connection's deadlines are cleared. Protect the request phase with
// http.Server.ReadHeaderTimeout and MaxHeaderBytes.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request) (net.Conn, []byte, Negotiated, error) {
	key, protocols, offers, rej := u.check([]byte(r.Method), r.ProtoMajor, r.ProtoMinor, []byte(r.Host), httpView{r.Header})
	if r.ProtoMajor >= 2 && rej == nil {
		// RFC 8441 (WebSocket over HTTP/2) is not supported: the
		// request cannot reach here with the HTTP/1.1 headers anyway.
		rej = reject(http.StatusHTTPVersionNotSupported, ErrHTTPVersion)
	}
	var n Negotiated
	if rej == nil {
		n, rej = u.negotiate(protocols, offers)
	}
	if rej != nil {
		for k, vs := range rej.Header {
			w.Header()[k] = vs
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(rej.Status)
		w.Write([]byte(rej.Reason + "\n"))
		return nil, nil, Negotiated{}, rej
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "cannot hijack the connection", http.StatusInternalServerError)
		return nil, nil, Negotiated{}, &RejectError{Status: http.StatusInternalServerError, Reason: "cannot hijack", Err: errors.Join(ErrHijack, err)}
	}
	var buffered []byte
	if k := brw.Reader.Buffered(); k > 0 {
		p, _ := brw.Reader.Peek(k)
		buffered = append([]byte(nil), p...)
	}
	conn.SetDeadline(time.Time{})
	var scratch [256]byte
	resp := u.appendResponse(scratch[:0], key, n)
	if _, err := conn.Write(resp); err != nil {
		conn.Close()
		return nil, nil, Negotiated{}, err
	}
	return conn, buffered, n, nil
}

// rawView adapts a head to requestView.
type rawView struct{ h *head }

func (v rawView) get(name string) ([]byte, int) { return v.h.get(name) }

func (v rawView) anyToken(name, token string) bool {
	for _, f := range v.h.fields {
		if equalFold(f.name, name) && hasToken(f.value, token) {
			return true
		}
	}
	return false
}

func (v rawView) appendValues(dst [][]byte, name string) [][]byte {
	for _, f := range v.h.fields {
		if equalFold(f.name, name) {
			dst = append(dst, f.value)
		}
	}
	return dst
}

// headPool recycles the buffers of raw handshakes.
var headPool = sync.Pool{New: func() any {
	return &head{buf: make([]byte, 0, 1024), fields: make([]field, 0, 16)}
}}

// UpgradeConn performs the server handshake directly on conn, reading the
// request through br (a bufio.Reader over conn; nil to make one). It
// applies the limits of MaxHeaderBytes, MaxHeaders and Timeout, answers
// failures itself, and returns the request (Header filled only when
// keepHeader is true) and what was negotiated. Bytes the client sent after
// its request remain in br.
//
// UpgradeConn does not close conn on failure: the caller does.
func (u *Upgrader) UpgradeConn(conn net.Conn, br *bufio.Reader, keepHeader bool) (*bufio.Reader, ServerRequest, Negotiated, error) {
	if br == nil {
		br = bufio.NewReaderSize(conn, 4096)
	}
	timeout := u.Timeout
	if timeout == 0 {
		timeout = DefaultHandshakeTimeout
	}
	if timeout > 0 {
		conn.SetDeadline(time.Now().Add(timeout))
		defer conn.SetDeadline(time.Time{})
	}
	maxBytes := u.MaxHeaderBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxHeaderBytes
	}
	maxFields := u.MaxHeaders
	if maxFields <= 0 {
		maxFields = DefaultMaxHeaders
	}
	h := headPool.Get().(*head)
	defer func() {
		if cap(h.buf) <= 4096 {
			headPool.Put(h)
		}
	}()
	var req ServerRequest
	if err := h.read(br, maxBytes, maxFields); err != nil {
		var rej *RejectError
		switch {
		case errors.Is(err, ErrHeaderTooLarge) || errors.Is(err, ErrTooManyHeaders):
			rej = reject(http.StatusRequestHeaderFieldsTooLarge, err)
		case errors.Is(err, ErrMalformed):
			rej = reject(http.StatusBadRequest, err)
		case isTimeout(err):
			rej = reject(http.StatusRequestTimeout, ErrTimeout)
		default:
			return br, req, Negotiated{}, err // the peer went away: nobody to answer
		}
		writeReject(conn, rej)
		return br, req, Negotiated{}, rej
	}
	method, uri, major, minor, ok := parseRequestLine(h.start)
	if !ok {
		rej := reject(http.StatusBadRequest, ErrMalformed)
		writeReject(conn, rej)
		return br, req, Negotiated{}, rej
	}
	host, hostCount := h.get("Host")
	if hostCount > 1 {
		host = nil // RFC 9112 §3.2: more than one Host is a bad request
	}
	key, protocols, offers, rej := u.check(method, major, minor, host, rawView{h})
	var n Negotiated
	if rej == nil {
		n, rej = u.negotiate(protocols, offers)
	}
	if rej != nil {
		writeReject(conn, rej)
		return br, req, Negotiated{}, rej
	}
	req = ServerRequest{Method: http.MethodGet, RequestURI: string(uri), Host: string(host)}
	if o, _ := h.get("Origin"); len(o) > 0 {
		req.Origin = string(o)
	}
	if keepHeader {
		req.Header = make(http.Header, len(h.fields))
		for _, f := range h.fields {
			k := http.CanonicalHeaderKey(string(f.name))
			req.Header[k] = append(req.Header[k], string(f.value))
		}
	}
	// The head's buffer is free once the fields were read: build the
	// response in it.
	var keyCopy [24]byte
	copy(keyCopy[:], key)
	resp := u.appendResponse(h.buf[:0], keyCopy[:], n)
	h.buf = resp[:0]
	if _, err := conn.Write(resp); err != nil {
		return br, req, Negotiated{}, err
	}
	return br, req, n, nil
}

func writeReject(conn net.Conn, rej *RejectError) {
	b := make([]byte, 0, 256)
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(rej.Status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(rej.Status)...)
	b = append(b, "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"...)
	for k, vs := range rej.Header {
		for _, v := range vs {
			b = append(b, k+": "+v+"\r\n"...)
		}
	}
	body := rej.Reason + "\n"
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	conn.Write(b)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// parseRequestLine splits "GET /path HTTP/1.1" without allocating.
func parseRequestLine(line []byte) (method, uri []byte, major, minor int, ok bool) {
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return nil, nil, 0, 0, false
	}
	method, rest := line[:sp1], line[sp1+1:]
	sp2 := bytes.IndexByte(rest, ' ')
	if sp2 <= 0 {
		return nil, nil, 0, 0, false
	}
	uri, proto := rest[:sp2], rest[sp2+1:]
	if bytes.IndexByte(uri, '\t') >= 0 || bytes.IndexByte(proto, ' ') >= 0 {
		return nil, nil, 0, 0, false
	}
	for _, c := range method {
		if !isTokenChar(c) {
			return nil, nil, 0, 0, false
		}
	}
	major, minor, ok = parseHTTPVersion(proto)
	return method, uri, major, minor, ok
}

// parseHTTPVersion parses "HTTP/d.d".
func parseHTTPVersion(p []byte) (major, minor int, ok bool) {
	if len(p) != 8 || string(p[:5]) != "HTTP/" || p[6] != '.' || p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9' {
		return 0, 0, false
	}
	return int(p[5] - '0'), int(p[7] - '0'), true
}
