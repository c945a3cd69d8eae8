package frame_test

import (
	"fmt"

	"github.com/duplexgo/duplex/frame"
	"github.com/duplexgo/duplex/mask"
)

// A client frame: encode a masked header, mask the payload behind it, then
// parse and validate it the way a server does.
func Example() {
	payload := []byte("Hello")
	h := frame.Header{Fin: true, Opcode: frame.OpText, Masked: true, Key: [4]byte{0x37, 0xfa, 0x21, 0x3d}, Length: int64(len(payload))}
	wire := frame.AppendHeader(nil, h)
	start := len(wire)
	wire = append(wire, payload...)
	mask.XOR(wire[start:], h.Key, 0)
	fmt.Printf("% x\n", wire)

	got, n, err := frame.Parse(wire)
	if err != nil {
		panic(err)
	}
	if err := got.Validate(frame.RoleServer, 0); err != nil {
		panic(err)
	}
	body := wire[n : n+int(got.Length)]
	mask.XOR(body, got.Key, 0)
	fmt.Println(got.Opcode, string(body))
	// Output:
	// 81 85 37 fa 21 3d 7f 9f 4d 51 58
	// text Hello
}

func ExampleParseClose() {
	code, reason, err := frame.ParseClose([]byte{0x03, 0xe9, 'b', 'y', 'e'})
	fmt.Println(code, string(reason), err)
	_, _, err = frame.ParseClose([]byte{0x03, 0xed})
	fmt.Println(err, "->", err.(frame.Error).CloseCode())
	// Output:
	// 1001 (going away) bye <nil>
	// frame: invalid close code -> 1002 (protocol error)
}
