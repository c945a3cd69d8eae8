package frame

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// CloseCode is the status code of a Close frame (RFC 6455 §7.4).
type CloseCode uint16

// Status codes registered by RFC 6455 §7.4.1 and in the IANA "WebSocket
// Close Code Number Registry".
const (
	CloseNormal          CloseCode = 1000 // the purpose of the connection is fulfilled
	CloseGoingAway       CloseCode = 1001 // server shutting down, or browser leaving the page
	CloseProtocolError   CloseCode = 1002 // the peer broke the protocol
	CloseUnsupportedData CloseCode = 1003 // a data type the endpoint cannot accept
	closeReserved1004    CloseCode = 1004 // reserved, meaning may be defined later
	CloseNoStatus        CloseCode = 1005 // local only: the Close frame had no status code
	CloseAbnormal        CloseCode = 1006 // local only: the connection dropped without a Close frame
	CloseInvalidPayload  CloseCode = 1007 // data inconsistent with its type, such as text that is not UTF-8
	ClosePolicyViolation CloseCode = 1008 // a generic policy violation
	CloseMessageTooBig   CloseCode = 1009 // a message too big to process
	CloseMandatoryExt    CloseCode = 1010 // client: the server did not negotiate a required extension
	CloseInternalError   CloseCode = 1011 // server: an unexpected condition
	CloseServiceRestart  CloseCode = 1012 // IANA: the service is restarting
	CloseTryAgainLater   CloseCode = 1013 // IANA: temporary overload
	CloseBadGateway      CloseCode = 1014 // IANA: a gateway got an invalid answer upstream
	CloseTLSHandshake    CloseCode = 1015 // local only: the TLS handshake failed
)

// ValidOnWire reports whether c may be sent in a Close frame (RFC 6455
// §7.4.1 and §7.4.2): 1000-1003, 1007-1014 and 3000-4999. 1004 is reserved,
// 1005, 1006 and 1015 are for local use only, and 0-999, 1016-2999 and
// 5000 and above are not to be used.
func (c CloseCode) ValidOnWire() bool {
	switch {
	case c >= 1000 && c <= 1003:
		return true
	case c >= 1007 && c <= 1014:
		return true
	case c >= 3000 && c <= 4999:
		return true
	}
	return false
}

// String returns the code's registered name and number, such as
// "1000 (normal closure)".
func (c CloseCode) String() string {
	name := ""
	switch c {
	case CloseNormal:
		name = "normal closure"
	case CloseGoingAway:
		name = "going away"
	case CloseProtocolError:
		name = "protocol error"
	case CloseUnsupportedData:
		name = "unsupported data"
	case closeReserved1004:
		name = "reserved"
	case CloseNoStatus:
		name = "no status received"
	case CloseAbnormal:
		name = "abnormal closure"
	case CloseInvalidPayload:
		name = "invalid payload data"
	case ClosePolicyViolation:
		name = "policy violation"
	case CloseMessageTooBig:
		name = "message too big"
	case CloseMandatoryExt:
		name = "mandatory extension"
	case CloseInternalError:
		name = "internal error"
	case CloseServiceRestart:
		name = "service restart"
	case CloseTryAgainLater:
		name = "try again later"
	case CloseBadGateway:
		name = "bad gateway"
	case CloseTLSHandshake:
		name = "TLS handshake failure"
	default:
		switch {
		case c >= 3000 && c <= 3999:
			name = "registered"
		case c >= 4000 && c <= 4999:
			name = "private use"
		default:
			name = "invalid"
		}
	}
	return strconv.Itoa(int(c)) + " (" + name + ")"
}

// MaxControlPayload is the largest payload of a control frame (§5.5), and
// MaxCloseReason the longest reason a Close frame can carry.
const (
	MaxControlPayload = 125
	MaxCloseReason    = MaxControlPayload - 2
)

// ParseClose parses the payload of a Close frame (§5.5.1). An empty payload
// gives CloseNoStatus and no error. The reason is a subslice of p.
//
// It fails with ErrCloseLength for a one-byte payload, ErrCloseCode for a
// code that is not ValidOnWire, ErrCloseReason for a reason that is not
// UTF-8 and ErrControlTooLong for a payload over 125 bytes.
func ParseClose(p []byte) (code CloseCode, reason []byte, err error) {
	switch {
	case len(p) == 0:
		return CloseNoStatus, nil, nil
	case len(p) == 1:
		return 0, nil, ErrCloseLength
	case len(p) > MaxControlPayload:
		return 0, nil, ErrControlTooLong
	}
	code = CloseCode(uint16(p[0])<<8 | uint16(p[1]))
	if !code.ValidOnWire() {
		return code, nil, ErrCloseCode
	}
	reason = p[2:]
	if !utf8.Valid(reason) {
		return code, nil, ErrCloseReason
	}
	return code, reason, nil
}

// ErrCloseReasonTooLong is returned by AppendClose for a reason longer than
// MaxCloseReason bytes.
var ErrCloseReasonTooLong = errors.New("frame: close reason longer than 123 bytes")

// AppendClose appends the payload of a Close frame with code and reason to
// dst. CloseNoStatus gives an empty payload (a Close frame without a code),
// and then reason must be empty. It fails for codes that are not
// ValidOnWire, reasons that are not UTF-8 and reasons over MaxCloseReason.
func AppendClose(dst []byte, code CloseCode, reason string) ([]byte, error) {
	if code == CloseNoStatus {
		if reason != "" {
			return dst, ErrCloseCode
		}
		return dst, nil
	}
	if !code.ValidOnWire() {
		return dst, ErrCloseCode
	}
	if len(reason) > MaxCloseReason {
		return dst, ErrCloseReasonTooLong
	}
	if !utf8.ValidString(reason) {
		return dst, ErrCloseReason
	}
	dst = append(dst, byte(code>>8), byte(code))
	return append(dst, reason...), nil
}
