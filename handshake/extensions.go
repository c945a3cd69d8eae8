package handshake

import (
	"errors"
	"strings"
)

// Extension is one entry of a Sec-WebSocket-Extensions field: an extension
// name and its parameters (RFC 6455 §9.1).
type Extension struct {
	Name   string
	Params []Param
}

// Param is an extension parameter. A parameter without a value, such as
// server_no_context_takeover, has HasValue false.
type Param struct {
	Name     string
	Value    string
	HasValue bool
}

// String formats e as it appears in a Sec-WebSocket-Extensions field.
func (e Extension) String() string {
	var b strings.Builder
	b.WriteString(e.Name)
	for _, p := range e.Params {
		b.WriteString("; ")
		b.WriteString(p.Name)
		if p.HasValue {
			b.WriteByte('=')
			b.WriteString(p.Value)
		}
	}
	return b.String()
}

// ErrExtensionSyntax is returned for a Sec-WebSocket-Extensions value that
// does not follow the grammar of RFC 6455 §9.1.
var ErrExtensionSyntax = errors.New("handshake: malformed Sec-WebSocket-Extensions")

// ParseExtensions parses one Sec-WebSocket-Extensions value and appends its
// extensions to dst. Call it once per header line: several lines form one
// list (RFC 6455 §9.1, RFC 9110 §5.3).
//
// The grammar is
//
//	extension-list = 1#extension
//	extension      = token *( OWS ";" OWS param )
//	param          = token [ OWS "=" OWS ( token / quoted-string ) ]
//
// and a quoted value must unescape to a token. The parser reads each byte
// once, so a hostile value costs time linear in its length.
func ParseExtensions(dst []Extension, v string) ([]Extension, error) {
	p := extParser{s: v}
	for {
		p.skipOWS()
		if p.eof() {
			return dst, nil
		}
		if p.peek() == ',' { // empty list elements are allowed (RFC 9110 §5.6.1)
			p.i++
			continue
		}
		name, ok := p.token()
		if !ok {
			return dst, ErrExtensionSyntax
		}
		ext := Extension{Name: name}
		for {
			p.skipOWS()
			if p.eof() || p.peek() == ',' {
				break
			}
			if p.peek() != ';' {
				return dst, ErrExtensionSyntax
			}
			p.i++
			p.skipOWS()
			pname, ok := p.token()
			if !ok {
				return dst, ErrExtensionSyntax
			}
			param := Param{Name: pname}
			p.skipOWS()
			if !p.eof() && p.peek() == '=' {
				p.i++
				p.skipOWS()
				val, ok := p.value()
				if !ok {
					return dst, ErrExtensionSyntax
				}
				param.Value, param.HasValue = val, true
			}
			ext.Params = append(ext.Params, param)
		}
		dst = append(dst, ext)
		if !p.eof() {
			p.i++ // the comma
		}
	}
}

type extParser struct {
	s string
	i int
}

func (p *extParser) eof() bool  { return p.i >= len(p.s) }
func (p *extParser) peek() byte { return p.s[p.i] }

func (p *extParser) skipOWS() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *extParser) token() (string, bool) {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i], p.i > start
}

// value reads a token or a quoted string whose content, unescaped, is a
// token (RFC 6455 §9.1).
func (p *extParser) value() (string, bool) {
	if p.eof() || p.peek() != '"' {
		return p.token()
	}
	p.i++
	var b []byte
	start, plain := p.i, true
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			var val string
			if plain {
				val = p.s[start : p.i-1]
			} else {
				val = string(b)
			}
			if val == "" {
				return "", false
			}
			return val, true
		case c == '\\':
			if p.i+1 >= len(p.s) {
				return "", false
			}
			if plain {
				b = append(b, p.s[start:p.i]...)
				plain = false
			}
			c = p.s[p.i+1]
			p.i += 2
		default:
			p.i++
		}
		if !isTokenChar(c) {
			return "", false
		}
		if !plain {
			b = append(b, c)
		}
	}
	return "", false
}

// FormatExtensions joins extensions into one Sec-WebSocket-Extensions value.
func FormatExtensions(exts []Extension) string {
	var b strings.Builder
	for i, e := range exts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.String())
	}
	return b.String()
}
