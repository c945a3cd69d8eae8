module github.com/duplexgo/duplex/interop

go 1.25

require (
	github.com/coder/websocket v1.8.15
	github.com/duplexgo/duplex v0.0.0-00010101000000-000000000000
	github.com/gorilla/websocket v1.5.3
)

require github.com/klauspost/compress v1.20.3 // indirect

replace github.com/duplexgo/duplex => ../
