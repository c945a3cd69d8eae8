package suite_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/duplexgo/duplex/autobahn/echo"
	"github.com/duplexgo/duplex/autobahn/suite"
)

// scale is the CI scale of the heavy cases; DUPLEX_AUTOBAHN_FULL=1 runs
// the original sizes and counts.
func scale() suite.Scale {
	if os.Getenv("DUPLEX_AUTOBAHN_FULL") == "1" {
		return suite.Full
	}
	return suite.Scale{SizeDiv: 16, CountDiv: 50}
}

func reportDir(t *testing.T, name string) string {
	if d := os.Getenv("DUPLEX_AUTOBAHN_REPORTS"); d != "" {
		return filepath.Join(d, name)
	}
	return filepath.Join(t.TempDir(), name)
}

func check(t *testing.T, results []suite.Result) {
	t.Helper()
	failed := 0
	for _, r := range results {
		if !r.Passed() {
			failed++
			t.Errorf("case %s: %s / %s (close code %d): %s — %s", r.ID, r.Behavior, r.BehaviorClose, r.RemoteCloseCode, r.Result, r.Description)
		}
	}
	t.Logf("%d cases, %d not OK\n%s", len(results), failed, suite.Summary(results))
}

func TestServerConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	t.Parallel()
	srv := httptest.NewServer(echo.Handler(true))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	results := suite.RunServer(context.Background(), url, suite.Cases(scale()))
	if err := suite.WriteReport(reportDir(t, "servers"), "duplex", results); err != nil {
		t.Fatal(err)
	}
	check(t, results)
}

// TestServerConformanceWriteImmediately runs the server cases against the
// echo server with write coalescing off (the other tests run with the
// default, on): every verdict must be the same either way.
func TestServerConformanceWriteImmediately(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	t.Parallel()
	o := echo.Options(true)
	o.WriteImmediately = true
	srv := httptest.NewServer(echo.HandlerWith(o))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
	check(t, suite.RunServer(context.Background(), url, suite.Cases(scale())))
}

func TestClientConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("conformance suite skipped in -short mode")
	}
	t.Parallel()
	cases := suite.Cases(scale())
	fs := &suite.FuzzingServer{Cases: cases, Results: make(chan suite.Result, len(cases))}
	srv := httptest.NewServer(fs)
	defer srv.Close()
	base := "ws" + strings.TrimPrefix(srv.URL, "http")
	ctx := context.Background()
	n, err := echo.CaseCount(ctx, base)
	if err != nil || n != len(cases) {
		t.Fatalf("getCaseCount: %d, %v", n, err)
	}
	var results []suite.Result
	for i := 1; i <= n; i++ {
		echo.RunCase(ctx, base, i, "duplex", true)
		results = append(results, <-fs.Results)
	}
	if err := suite.WriteReport(reportDir(t, "clients"), "duplex", results); err != nil {
		t.Fatal(err)
	}
	check(t, results)
}
