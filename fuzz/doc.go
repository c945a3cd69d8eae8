// Package fuzz holds duplex's differential fuzz targets: the same bytes go
// through duplex and through another implementation (gobwas/ws's header
// reader, gorilla/websocket's read side), and the two must agree except
// where RFC 6455 allows both answers. It is its own module so that the
// peers never enter duplex's dependency graph; the single-implementation
// targets live beside the code they test.
package fuzz
