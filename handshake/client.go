package handshake

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sentinel errors of the client side.
var (
	ErrBadURL      = errors.New("handshake: URL scheme must be ws or wss (or http, https)")
	ErrBadStatus   = errors.New("handshake: server did not answer 101 Switching Protocols")
	ErrBadAccept   = errors.New("handshake: wrong Sec-WebSocket-Accept")
	ErrBadUpgrade  = errors.New("handshake: response Upgrade or Connection is not websocket")
	ErrSubprotocol = errors.New("handshake: server chose a subprotocol that was not offered")
	ErrExtension   = errors.New("handshake: server accepted an extension that was not offered")
	ErrProxy       = errors.New("handshake: proxy refused CONNECT")
)

// StatusError is a non-101 answer to the client's handshake.
type StatusError struct {
	Status int         // the response status code
	Header http.Header // the response header
	Body   []byte      // the start of the body, at most 1 KiB
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("handshake: server answered %d %s", e.Status, http.StatusText(e.Status))
}

// Unwrap returns ErrBadStatus.
func (e *StatusError) Unwrap() error { return ErrBadStatus }

// Dialer opens client connections. The zero value dials with net.Dialer,
// the default TLS configuration and the proxy from the environment
// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY).
type Dialer struct {
	// NetDialContext dials the TCP connection (to the proxy when there is
	// one). nil uses a net.Dialer.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig configures wss:// connections; nil uses defaults. Its
	// ServerName is set from the URL when empty.
	TLSConfig *tls.Config
	// Proxy returns the proxy for a request, as http.Transport.Proxy does.
	// nil means http.ProxyFromEnvironment; return nil for none.
	Proxy func(*http.Request) (*url.URL, error)
	// NoProxy disables proxies altogether.
	NoProxy bool

	// Header holds extra request headers (Origin, Authorization, cookies).
	Header http.Header
	// Subprotocols are offered in order of preference.
	Subprotocols []string
	// Extensions are offered in order; the server's answer must be a
	// subset (by name). The ws package fills it for permessage-deflate.
	Extensions []Extension

	// Timeout bounds the dial and handshake when ctx has no earlier
	// deadline (DefaultHandshakeTimeout if zero; negative for none).
	Timeout time.Duration
	// MaxHeaderBytes bounds the response head (DefaultMaxHeaderBytes if zero).
	MaxHeaderBytes int
}

// Dial connects to a ws:// or wss:// URL and performs the client
// handshake. It returns the connection, a reader positioned after the
// response (holding any frames the server sent right behind it), and the
// negotiated subprotocol and extensions. A non-101 answer is a
// *StatusError.
func (d *Dialer) Dial(ctx context.Context, rawURL string) (net.Conn, *bufio.Reader, Negotiated, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, Negotiated{}, err
	}
	var secure bool
	switch u.Scheme {
	case "ws", "http":
	case "wss", "https":
		secure = true
	default:
		return nil, nil, Negotiated{}, ErrBadURL
	}
	if u.Host == "" {
		return nil, nil, Negotiated{}, ErrBadURL
	}
	timeout := d.Timeout
	if timeout == 0 {
		timeout = DefaultHandshakeTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	hostPort := u.Host
	if u.Port() == "" {
		if secure {
			hostPort = net.JoinHostPort(u.Hostname(), "443")
		} else {
			hostPort = net.JoinHostPort(u.Hostname(), "80")
		}
	}

	var proxyURL *url.URL
	if !d.NoProxy {
		proxy := d.Proxy
		if proxy == nil {
			proxy = http.ProxyFromEnvironment
		}
		pu := *u
		if secure {
			pu.Scheme = "https"
		} else {
			pu.Scheme = "http"
		}
		proxyURL, err = proxy(&http.Request{URL: &pu})
		if err != nil {
			return nil, nil, Negotiated{}, err
		}
	}
	dial := d.NetDialContext
	if dial == nil {
		var nd net.Dialer
		dial = nd.DialContext
	}
	dialAddr := hostPort
	if proxyURL != nil {
		dialAddr = proxyURL.Host
		if proxyURL.Port() == "" {
			dialAddr = net.JoinHostPort(proxyURL.Hostname(), "80")
		}
	}
	conn, err := dial(ctx, "tcp", dialAddr)
	if err != nil {
		return nil, nil, Negotiated{}, err
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close()
		}
	}()
	// Let the context cancel blocking reads and writes of the handshake.
	if dl, has := ctx.Deadline(); has {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if proxyURL != nil {
		if err := connectProxy(conn, proxyURL, hostPort, d.maxHeaderBytes()); err != nil {
			return nil, nil, Negotiated{}, err
		}
	}
	if secure {
		cfg := d.TLSConfig.Clone()
		if cfg == nil {
			cfg = &tls.Config{}
		}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, nil, Negotiated{}, err
		}
		conn = tc
	}
	br, n, err := d.handshake(conn, u)
	if err != nil {
		if ctx.Err() != nil && isTimeout(err) {
			err = fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
		}
		return nil, nil, Negotiated{}, err
	}
	if !stop() {
		// The context expired just as the handshake finished: the
		// deadline may already be set in the past.
		return nil, nil, Negotiated{}, ctx.Err()
	}
	conn.SetDeadline(time.Time{})
	ok = true
	return conn, br, n, nil
}

func (d *Dialer) maxHeaderBytes() int {
	if d.MaxHeaderBytes > 0 {
		return d.MaxHeaderBytes
	}
	return DefaultMaxHeaderBytes
}

// NewKey returns a fresh Sec-WebSocket-Key: 16 random bytes, base64.
func NewKey() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// AppendRequest appends the client's handshake request for u to dst.
func (d *Dialer) AppendRequest(dst []byte, u *url.URL, key string) []byte {
	uri := u.RequestURI()
	dst = append(dst, "GET "+uri+" HTTP/1.1\r\nHost: "+u.Host+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n"...)
	if len(d.Subprotocols) > 0 {
		dst = append(dst, "Sec-WebSocket-Protocol: "+strings.Join(d.Subprotocols, ", ")+"\r\n"...)
	}
	if len(d.Extensions) > 0 {
		dst = append(dst, "Sec-WebSocket-Extensions: "+FormatExtensions(d.Extensions)+"\r\n"...)
	}
	for k, vs := range d.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Upgrade", "Connection", "Sec-Websocket-Key", "Sec-Websocket-Version",
			"Sec-Websocket-Extensions", "Sec-Websocket-Protocol":
			continue // set by the handshake itself
		}
		for _, v := range vs {
			dst = append(dst, k+": "+v+"\r\n"...)
		}
	}
	return append(dst, "\r\n"...)
}

func (d *Dialer) handshake(conn net.Conn, u *url.URL) (*bufio.Reader, Negotiated, error) {
	key := NewKey()
	if _, err := conn.Write(d.AppendRequest(make([]byte, 0, 512), u, key)); err != nil {
		return nil, Negotiated{}, err
	}
	br := bufio.NewReaderSize(conn, 4096)
	var h head
	if err := h.read(br, d.maxHeaderBytes(), DefaultMaxHeaders); err != nil {
		return nil, Negotiated{}, err
	}
	n, err := d.checkResponse(&h, key, br)
	return br, n, err
}

// checkResponse validates the server's answer (RFC 6455 §4.1, the client's
// requirements on the response).
func (d *Dialer) checkResponse(h *head, key string, br *bufio.Reader) (Negotiated, error) {
	status, ok := parseStatusLine(h.start)
	if !ok {
		return Negotiated{}, ErrMalformed
	}
	if status != http.StatusSwitchingProtocols {
		se := &StatusError{Status: status, Header: make(http.Header)}
		for _, f := range h.fields {
			k := http.CanonicalHeaderKey(string(f.name))
			se.Header[k] = append(se.Header[k], string(f.value))
		}
		body := make([]byte, 1024)
		lim := int64(len(body))
		if cl, err := strconv.ParseInt(se.Header.Get("Content-Length"), 10, 64); err == nil && cl < lim {
			lim = cl
		}
		k, _ := io.ReadFull(io.LimitReader(br, lim), body)
		se.Body = body[:k]
		return Negotiated{}, se
	}
	upgrade, connection := false, false
	h.values("Upgrade", func(v []byte) bool { upgrade = hasToken(v, "websocket"); return !upgrade })
	h.values("Connection", func(v []byte) bool { connection = hasToken(v, "upgrade"); return !connection })
	if !upgrade || !connection {
		return Negotiated{}, ErrBadUpgrade
	}
	accept, count := h.get("Sec-WebSocket-Accept")
	var want [28]byte
	if count != 1 || string(accept) != string(appendAccept(want[:0], []byte(key))) {
		return Negotiated{}, ErrBadAccept
	}
	var n Negotiated
	proto, count := h.get("Sec-WebSocket-Protocol")
	if count > 1 || count == 1 && !contains(d.Subprotocols, string(proto)) {
		return Negotiated{}, ErrSubprotocol
	}
	n.Subprotocol = string(proto)
	var err error
	h.values("Sec-WebSocket-Extensions", func(v []byte) bool {
		n.Extensions, err = ParseExtensions(n.Extensions, string(v))
		return err == nil
	})
	if err != nil {
		return Negotiated{}, err
	}
	for _, e := range n.Extensions {
		offered := false
		for _, o := range d.Extensions {
			offered = offered || o.Name == e.Name
		}
		if !offered {
			return Negotiated{}, ErrExtension
		}
	}
	return n, nil
}

// parseStatusLine reads the status code of "HTTP/1.1 101 Switching Protocols".
func parseStatusLine(line []byte) (int, bool) {
	s := string(line)
	proto, rest, ok := strings.Cut(s, " ")
	if !ok {
		return 0, false
	}
	if major, minor, ok := http.ParseHTTPVersion(proto); !ok || major != 1 || minor < 1 {
		return 0, false
	}
	code, _, _ := strings.Cut(rest, " ")
	if len(code) != 3 {
		return 0, false
	}
	status, err := strconv.Atoi(code)
	if err != nil || status < 100 {
		return 0, false
	}
	return status, true
}

// connectProxy asks an HTTP proxy for a tunnel to hostPort.
func connectProxy(conn net.Conn, proxy *url.URL, hostPort string, maxHeader int) error {
	req := "CONNECT " + hostPort + " HTTP/1.1\r\nHost: " + hostPort + "\r\n"
	if u := proxy.User; u != nil {
		pw, _ := u.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+pw)) + "\r\n"
	}
	if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
		return err
	}
	// Read the answer byte-exact: a buffered reader here could swallow the
	// start of the TLS or WebSocket stream.
	br := bufio.NewReaderSize(oneByteConn{conn}, 16)
	var h head
	if err := h.read(br, maxHeader, DefaultMaxHeaders); err != nil {
		return err
	}
	status, ok := parseStatusLine(h.start)
	if !ok {
		return ErrMalformed
	}
	if status/100 != 2 {
		return fmt.Errorf("%w: %d %s", ErrProxy, status, http.StatusText(status))
	}
	return nil
}

// oneByteConn reads at most one byte per call, so that a bufio.Reader over
// it never reads past what it was asked for.
type oneByteConn struct{ r io.Reader }

func (o oneByteConn) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
