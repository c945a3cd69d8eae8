package frame

// Error is a violation of the framing rules that a receiver must fail the
// connection for (RFC 6455 §7.1.7). CloseCode gives the status to close
// with; the one table below is the only place that mapping is made.
type Error uint8

// The protocol errors this package (and the ws package, for the rules that
// need connection state) reports.
const (
	_                         Error = iota
	ErrReservedOpcode               // opcode 0x3-0x7 or 0xB-0xF (§5.2)
	ErrFragmentedControl            // control frame without FIN (§5.5)
	ErrControlTooLong               // control payload over 125 bytes (§5.5)
	ErrReservedBits                 // RSV bit not allowed by a negotiated extension (§5.2)
	ErrLengthOverflow               // 64-bit length with its most significant bit set (§5.2)
	ErrNonMinimalLength             // length not in its shortest encoding (§5.2)
	ErrUnmasked                     // client frame not masked (§5.1)
	ErrMasked                       // server frame masked (§5.1)
	ErrCloseLength                  // close payload of one byte (§5.5.1)
	ErrCloseCode                    // close code not valid on the wire (§7.4)
	ErrCloseReason                  // close reason not UTF-8 (§5.5.1)
	ErrUnexpectedContinuation       // continuation with no message started (§5.4)
	ErrExpectedContinuation         // new data frame inside a fragmented message (§5.4)
	ErrInvalidUTF8                  // text message that is not UTF-8 (§8.1)
	ErrMessageTooBig                // message or frame over the receiver's limit (§7.4.1)
	ErrBadCompression               // compressed payload that does not inflate (RFC 7692 §8)
	errCount
)

var errorTable = [errCount]struct {
	text string
	code CloseCode
}{
	ErrReservedOpcode:         {"reserved opcode", CloseProtocolError},
	ErrFragmentedControl:      {"fragmented control frame", CloseProtocolError},
	ErrControlTooLong:         {"control frame payload over 125 bytes", CloseProtocolError},
	ErrReservedBits:           {"reserved bits set without an extension that defines them", CloseProtocolError},
	ErrLengthOverflow:         {"payload length with the most significant bit set", CloseProtocolError},
	ErrNonMinimalLength:       {"payload length not in its minimal encoding", CloseProtocolError},
	ErrUnmasked:               {"unmasked frame from a client", CloseProtocolError},
	ErrMasked:                 {"masked frame from a server", CloseProtocolError},
	ErrCloseLength:            {"close payload of one byte", CloseProtocolError},
	ErrCloseCode:              {"invalid close code", CloseProtocolError},
	ErrCloseReason:            {"close reason is not valid UTF-8", CloseProtocolError},
	ErrUnexpectedContinuation: {"continuation frame without a message to continue", CloseProtocolError},
	ErrExpectedContinuation:   {"data frame inside a fragmented message", CloseProtocolError},
	ErrInvalidUTF8:            {"text message is not valid UTF-8", CloseInvalidPayload},
	ErrMessageTooBig:          {"message too big", CloseMessageTooBig},
	ErrBadCompression:         {"compressed payload is invalid", CloseInvalidPayload},
}

// Error returns the violation prefixed with "frame: ".
func (e Error) Error() string {
	if e == 0 || e >= errCount {
		return "frame: unknown error"
	}
	return "frame: " + errorTable[e].text
}

// CloseCode returns the status a connection closes with for e: 1002
// (protocol error) for framing violations, 1007 for invalid payload data
// and 1009 for a message over a limit.
func (e Error) CloseCode() CloseCode {
	if e == 0 || e >= errCount {
		return CloseProtocolError
	}
	return errorTable[e].code
}
