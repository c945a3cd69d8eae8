// Command echoclient drives the Autobahn testsuite's fuzzingserver: it runs
// every case as a client that echoes what it receives, then asks for the
// report.
//
//	go run ./autobahn/echoclient -url ws://127.0.0.1:9001 -agent duplex
package main

import (
	"context"
	"flag"
	"log"

	"github.com/duplexgo/duplex/autobahn/echo"
)

func main() {
	base := flag.String("url", "ws://127.0.0.1:9001", "fuzzingserver URL")
	agent := flag.String("agent", "duplex", "agent name in the report")
	compress := flag.Bool("compress", true, "offer permessage-deflate")
	flag.Parse()
	ctx := context.Background()
	n, err := echo.CaseCount(ctx, *base)
	if err != nil {
		log.Fatalf("getCaseCount: %v", err)
	}
	for i := 1; i <= n; i++ {
		if err := echo.RunCase(ctx, *base, i, *agent, *compress); err != nil {
			log.Printf("case %d: %v", i, err)
		}
	}
	if err := echo.UpdateReports(ctx, *base, *agent); err != nil {
		log.Fatalf("updateReports: %v", err)
	}
	log.Printf("ran %d cases; the report is in the fuzzingserver's reports/clients folder", n)
}
