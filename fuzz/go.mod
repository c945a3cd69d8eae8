module github.com/duplexgo/duplex/fuzz

go 1.26

require (
	github.com/duplexgo/duplex v0.0.0-00010101000000-000000000000
	github.com/gobwas/ws v1.5.0
	github.com/gorilla/websocket v1.5.3
)

require (
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/klauspost/compress v1.20.3 // indirect
)

replace github.com/duplexgo/duplex => ../
