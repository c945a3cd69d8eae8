module github.com/duplexgo/duplex

go 1.24
