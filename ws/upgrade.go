package ws

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/duplexgo/duplex/handshake"
)

// ServerOptions configures Upgrade: the handshake policy (subprotocols,
// origin check, limits of the raw path) and the connection's Options.
// Leave Upgrader.NegotiateExtensions nil: Upgrade sets it from
// Options.Compression.
type ServerOptions struct {
	handshake.Upgrader
	Options
}

// Upgrade answers a WebSocket handshake on a net/http request and returns
// the connection. On failure the client has been answered (400, 403, 426
// ...) and the error is a *handshake.RejectError. opts may be nil.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *ServerOptions) (*Conn, error) {
	u, o, params := serverSetup(opts)
	nc, buffered, n, err := u.Upgrade(w, r)
	if err != nil {
		return nil, err
	}
	return serverConn(nc, buffered, n, o, params), nil
}

// UpgradeConn performs the handshake directly on a net.Conn, for servers
// that do not use net/http, with the limits of ServerOptions.Upgrader
// (header size, field count, timeout). It does not close nc on failure.
func UpgradeConn(nc net.Conn, opts *ServerOptions) (*Conn, error) {
	u, o, params := serverSetup(opts)
	br, _, n, err := u.UpgradeConn(nc, nil, false)
	if err != nil {
		return nil, err
	}
	var buffered []byte
	if k := br.Buffered(); k > 0 {
		buffered, _ = br.Peek(k)
	}
	return serverConn(nc, buffered, n, o, params), nil
}

func serverSetup(opts *ServerOptions) (*handshake.Upgrader, Options, *deflateParams) {
	var u handshake.Upgrader
	var o Options
	if opts != nil {
		u = opts.Upgrader
		o = opts.Options
	}
	o = o.withDefaults()
	var params *deflateParams
	if o.Compression != nil {
		co := o.Compression
		params = new(deflateParams)
		u.NegotiateExtensions = func(offers []handshake.Extension) ([]handshake.Extension, error) {
			ans, p, ok := negotiateDeflateServer(offers, co)
			if !ok {
				return nil, nil
			}
			*params = p
			return []handshake.Extension{ans}, nil
		}
	} else {
		u.NegotiateExtensions = nil
	}
	return &u, o, params
}

func serverConn(nc net.Conn, buffered []byte, n handshake.Negotiated, o Options, params *deflateParams) *Conn {
	c := newConn(nc, false, buffered, o, n.Subprotocol)
	if params != nil && len(n.Extensions) > 0 {
		c.deflate = newDeflateState(*params, o.Compression)
	}
	return c
}

// DialOptions configures Dial: the handshake (headers, subprotocols, proxy,
// TLS) and the connection's Options. Leave Dialer.Extensions empty: Dial
// fills it from Options.Compression.
type DialOptions struct {
	handshake.Dialer
	Options
}

// Dial opens a WebSocket connection to a ws:// or wss:// URL. A server that
// answers with another status than 101 gives a *handshake.StatusError.
// opts may be nil.
func Dial(ctx context.Context, url string, opts *DialOptions) (*Conn, error) {
	var d handshake.Dialer
	var o Options
	if opts != nil {
		d = opts.Dialer
		o = opts.Options
	}
	o = o.withDefaults()
	d.Extensions = nil
	if o.Compression != nil {
		d.Extensions = clientDeflateOffers(o.Compression)
	}
	nc, br, n, err := d.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	var params deflateParams
	compressed := false
	if o.Compression != nil {
		params, compressed, err = acceptDeflateAnswer(n.Extensions, o.Compression)
		if err != nil {
			// RFC 7692 §7.1: the client fails the connection on an
			// invalid answer.
			nc.Close()
			return nil, errors.Join(handshake.ErrExtension, err)
		}
	}
	c := newConn(nc, true, buffered(br), o, n.Subprotocol)
	if compressed {
		c.deflate = newDeflateState(params, o.Compression)
	}
	return c, nil
}

func buffered(br *bufio.Reader) []byte {
	if k := br.Buffered(); k > 0 {
		p, _ := br.Peek(k)
		return p
	}
	return nil
}
