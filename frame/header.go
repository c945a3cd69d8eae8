package frame

import (
	"encoding/binary"
	"errors"
	"io"
	"strconv"
)

// Header is a decoded frame header (RFC 6455 §5.2).
type Header struct {
	Fin    bool    // final fragment of a message
	RSV    RSV     // reserved bits, as RSV1|RSV2|RSV3
	Opcode Opcode  // frame type
	Masked bool    // payload is masked with Key
	Key    [4]byte // masking key; meaningful only when Masked
	Length int64   // payload length in bytes, 0 to 1<<63-1
}

// Header sizes: two fixed bytes, up to eight of extended length and four
// of masking key.
const (
	MinHeaderSize = 2
	MaxHeaderSize = 14
)

// Role is the end of a connection that receives a frame. It decides the
// masking rule of §5.1: a server receives masked frames only, a client
// unmasked ones only.
type Role uint8

// The two roles.
const (
	RoleServer Role = iota + 1
	RoleClient
)

// String returns "server" or "client".
func (r Role) String() string {
	switch r {
	case RoleServer:
		return "server"
	case RoleClient:
		return "client"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// ErrShortHeader is returned by Parse when b holds only part of a header.
var ErrShortHeader = errors.New("frame: short header")

// Size returns the number of bytes h takes on the wire.
func (h *Header) Size() int {
	n := MinHeaderSize
	switch {
	case h.Length > 0xffff:
		n += 8
	case h.Length > 125:
		n += 2
	}
	if h.Masked {
		n += 4
	}
	return n
}

// headerSize returns the size of the header whose first two bytes are
// b0 and b1.
func headerSize(b0, b1 byte) int {
	n := MinHeaderSize
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// Parse decodes the header at the start of b and returns it with the number
// of bytes it took. When b holds only part of a header it returns
// ErrShortHeader and, in n, how many bytes the whole header needs (at
// least MinHeaderSize; exact once two bytes are known).
//
// Parse checks the length encoding (ErrLengthOverflow, ErrNonMinimalLength)
// and nothing else: see Validate. It does not allocate.
func Parse(b []byte) (h Header, n int, err error) {
	if len(b) < MinHeaderSize {
		return h, MinHeaderSize, ErrShortHeader
	}
	b0, b1 := b[0], b[1]
	n = headerSize(b0, b1)
	if len(b) < n {
		return h, n, ErrShortHeader
	}
	h.Fin = b0&0x80 != 0
	h.RSV = RSV(b0 & 0x70)
	h.Opcode = Opcode(b0 & 0x0f)
	h.Masked = b1&0x80 != 0
	i := MinHeaderSize
	switch l := b1 & 0x7f; l {
	case 126:
		v := binary.BigEndian.Uint16(b[2:4])
		if v < 126 {
			return h, n, ErrNonMinimalLength
		}
		h.Length = int64(v)
		i += 2
	case 127:
		v := binary.BigEndian.Uint64(b[2:10])
		if v>>63 != 0 {
			return h, n, ErrLengthOverflow
		}
		if v <= 0xffff {
			return h, n, ErrNonMinimalLength
		}
		h.Length = int64(v)
		i += 8
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Key[:], b[i:i+4])
	}
	return h, n, nil
}

// ReadHeader reads one header from r, using buf for the bytes, and decodes
// it as Parse does. It reads exactly the header's bytes and no payload, so
// r need not be buffered (though it should be, for speed). An r that ends
// inside the header gives io.ErrUnexpectedEOF; one that ends before it,
// io.EOF.
func ReadHeader(r io.Reader, buf *[MaxHeaderSize]byte) (Header, error) {
	if _, err := io.ReadFull(r, buf[:MinHeaderSize]); err != nil {
		return Header{}, err
	}
	n := headerSize(buf[0], buf[1])
	if n > MinHeaderSize {
		if _, err := io.ReadFull(r, buf[MinHeaderSize:n]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, err
		}
	}
	h, _, err := Parse(buf[:n])
	return h, err
}

// AppendHeader appends the wire form of h to dst, with the payload length
// in its minimal encoding. A negative Length is encoded as zero.
func AppendHeader(dst []byte, h Header) []byte {
	var b0 byte
	if h.Fin {
		b0 = 0x80
	}
	b0 |= byte(h.RSV&0x70) | byte(h.Opcode&0x0f)
	var b1 byte
	if h.Masked {
		b1 = 0x80
	}
	l := h.Length
	if l < 0 {
		l = 0
	}
	switch {
	case l <= 125:
		dst = append(dst, b0, b1|byte(l))
	case l <= 0xffff:
		dst = append(dst, b0, b1|126, byte(l>>8), byte(l))
	default:
		dst = append(dst, b0, b1|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(l))
	}
	if h.Masked {
		dst = append(dst, h.Key[:]...)
	}
	return dst
}

// Validate applies the rules of RFC 6455 §5 that a single header can be
// checked against, for a frame received by receiver, with allowed the RSV
// bits that negotiated extensions define:
//
//   - the opcode is not reserved (ErrReservedOpcode);
//   - no RSV bit outside allowed is set (ErrReservedBits);
//   - a control frame has FIN set (ErrFragmentedControl) and at most 125
//     payload bytes (ErrControlTooLong);
//   - a server receives masked frames only (ErrUnmasked), a client unmasked
//     ones only (ErrMasked).
//
// Whether an extension allows a bit on this particular frame (RFC 7692
// allows RSV1 only on the first frame of a data message) and the order of
// fragments are connection state, checked by the ws package.
func (h *Header) Validate(receiver Role, allowed RSV) error {
	if h.Opcode.IsReserved() {
		return ErrReservedOpcode
	}
	if h.RSV&^allowed != 0 {
		return ErrReservedBits
	}
	if h.Opcode.IsControl() {
		if !h.Fin {
			return ErrFragmentedControl
		}
		if h.Length > MaxControlPayload {
			return ErrControlTooLong
		}
	}
	switch receiver {
	case RoleServer:
		if !h.Masked {
			return ErrUnmasked
		}
	case RoleClient:
		if h.Masked {
			return ErrMasked
		}
	}
	return nil
}
