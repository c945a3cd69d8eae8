// Package utf8check validates UTF-8 incrementally, so that a text message
// delivered in pieces is rejected at its first invalid byte (RFC 6455 §8.1
// lets an endpoint fail the connection as soon as it knows the text is
// invalid; the Autobahn 6.x cases expect it).
package utf8check

import "encoding/binary"

// Validator checks a byte stream for well-formed UTF-8 (the Unicode
// Standard, table 3-7): no overlong forms, no surrogates, nothing above
// U+10FFFF. The zero value is ready at the start of a stream.
type Validator struct {
	need   uint8 // continuation bytes still expected
	lo, hi byte  // bounds of the next continuation byte
}

// Reset starts a new stream.
func (v *Validator) Reset() { *v = Validator{} }

// Write consumes p and reports whether the stream is still valid, that is
// whether some continuation could make it valid. After a false result the
// Validator must be Reset before reuse.
func (v *Validator) Write(p []byte) bool {
	need, lo, hi := v.need, v.lo, v.hi
	i := 0
	for i < len(p) {
		if need == 0 {
			// ASCII fast path: eight bytes at a time.
			for i+8 <= len(p) && binary.LittleEndian.Uint64(p[i:])&0x8080808080808080 == 0 {
				i += 8
			}
			if i == len(p) {
				break
			}
			c := p[i]
			i++
			switch {
			case c < 0x80:
				continue
			case c < 0xc2:
				return false
			case c < 0xe0:
				need, lo, hi = 1, 0x80, 0xbf
			case c == 0xe0:
				need, lo, hi = 2, 0xa0, 0xbf
			case c == 0xed:
				need, lo, hi = 2, 0x80, 0x9f
			case c < 0xf0:
				need, lo, hi = 2, 0x80, 0xbf
			case c == 0xf0:
				need, lo, hi = 3, 0x90, 0xbf
			case c < 0xf4:
				need, lo, hi = 3, 0x80, 0xbf
			case c == 0xf4:
				need, lo, hi = 3, 0x80, 0x8f
			default:
				return false
			}
			continue
		}
		c := p[i]
		i++
		if c < lo || c > hi {
			return false
		}
		need--
		lo, hi = 0x80, 0xbf
	}
	v.need, v.lo, v.hi = need, lo, hi
	return true
}

// Complete reports whether the stream so far ends on a character boundary,
// that is whether it is valid UTF-8 as a whole.
func (v *Validator) Complete() bool { return v.need == 0 }
