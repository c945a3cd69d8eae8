package handshake

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// field is one header line of an HTTP/1.1 message head: name and value are
// subslices of head.buf, the value trimmed of optional white space.
type field struct {
	name, value []byte
}

// head is an HTTP/1.1 request or response head: the start line and the
// header fields, all borrowed from one buffer that the head owns and
// reuses.
type head struct {
	buf    []byte
	start  []byte
	fields []field
}

// Errors of the message-head reader. They are wrapped by the server in a
// RejectError (431 or 400) and returned as they are by the client.
var (
	ErrHeaderTooLarge = errors.New("handshake: request head larger than the limit")
	ErrTooManyHeaders = errors.New("handshake: more header fields than the limit")
	ErrMalformed      = errors.New("handshake: malformed HTTP message head")
)

// readHead reads a message head from br: the start line, the header fields
// and the empty line that ends them. It reads nothing past that line, so
// bytes that follow (a WebSocket frame sent right behind the handshake)
// stay in br. maxBytes bounds the whole head, maxFields the field count.
//
// Lines may end in CRLF or a bare LF (RFC 9112 §2.2 lets a recipient accept
// the latter). Obsolete line folding and white space before the colon are
// rejected (RFC 9112 §5.1, §5.2).
func (h *head) read(br *bufio.Reader, maxBytes, maxFields int) error {
	h.buf = h.buf[:0]
	h.fields = h.fields[:0]
	// Record line boundaries first and slice after, because appending to
	// buf may move it.
	type span struct{ start, end int }
	var lines [64]span
	spans := lines[:0]
	for {
		lineStart := len(h.buf)
		for {
			chunk, err := br.ReadSlice('\n')
			if len(h.buf)+len(chunk) > maxBytes {
				return ErrHeaderTooLarge
			}
			h.buf = append(h.buf, chunk...)
			if err == nil {
				break
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF && len(h.buf) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		end := len(h.buf) - 1 // the '\n'
		if end > lineStart && h.buf[end-1] == '\r' {
			end--
		}
		if end == lineStart {
			if len(spans) == 0 {
				// RFC 9112 §2.2: a server SHOULD ignore at least one
				// empty line before the request line.
				h.buf = h.buf[:0]
				continue
			}
			break
		}
		if len(spans) > maxFields {
			return ErrTooManyHeaders
		}
		spans = append(spans, span{lineStart, end})
	}
	h.start = h.buf[spans[0].start:spans[0].end]
	for _, s := range spans[1:] {
		line := h.buf[s.start:s.end]
		if line[0] == ' ' || line[0] == '\t' {
			return ErrMalformed // obsolete line folding
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return ErrMalformed
		}
		name := line[:colon]
		for _, c := range name {
			if !isTokenChar(c) {
				return ErrMalformed
			}
		}
		value := trimOWS(line[colon+1:])
		for _, c := range value {
			if c < ' ' && c != '\t' || c == 0x7f {
				return ErrMalformed
			}
		}
		h.fields = append(h.fields, field{name, value})
	}
	return nil
}

// values calls fn for the value of every field named name (compared
// case-insensitively), in order, and stops early if fn returns false.
func (h *head) values(name string, fn func(v []byte) bool) {
	for _, f := range h.fields {
		if equalFold(f.name, name) && !fn(f.value) {
			return
		}
	}
}

// get returns the value of the first field named name, and whether there
// is one, and how many there are.
func (h *head) get(name string) (v []byte, count int) {
	for _, f := range h.fields {
		if equalFold(f.name, name) {
			if count == 0 {
				v = f.value
			}
			count++
		}
	}
	return v, count
}

// tokenTable marks the characters of an RFC 9110 §5.6.2 token.
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isTokenChar(c byte) bool { return tokenTable[c] }

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold compares b with the ASCII string s case-insensitively without
// allocating.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasToken reports whether the comma-separated list v holds token
// (case-insensitively), as the Connection and Upgrade fields do.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var item []byte
		item, v = nextListItem(v)
		if equalFold(item, token) {
			return true
		}
	}
	return false
}

// nextListItem splits the first element off a comma-separated list
// (RFC 9110 §5.6.1) and returns it without surrounding white space.
func nextListItem(v []byte) (item, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimOWS(v[:i]), v[i+1:]
	}
	return trimOWS(v), nil
}
