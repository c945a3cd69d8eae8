module github.com/duplexgo/duplex/bench

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/duplexgo/duplex v0.0.0-00010101000000-000000000000
	github.com/gobwas/ws v1.5.0
	github.com/gorilla/websocket v1.5.3
	github.com/klauspost/compress v1.20.3
	github.com/lxzan/gws v1.8.9
	github.com/tmaxmax/go-sse v0.11.0
	golang.org/x/net v0.62.0
)

require (
	github.com/dolthub/maphash v0.1.0 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
)

replace github.com/duplexgo/duplex => ../
