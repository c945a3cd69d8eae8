package suite

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
)

// WriteReport writes index.json and index.html for agent's results into
// dir, in the spirit of the original's report index.
func WriteReport(dir, agent string, results []Result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	byID := map[string]map[string]Result{agent: {}}
	for _, r := range results {
		byID[agent][r.ID] = r
	}
	j, err := json.MarshalIndent(byID, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), j, 0o644); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><meta charset=utf-8><title>duplex conformance: %s</title>\n", html.EscapeString(agent))
	b.WriteString("<style>body{font:14px sans-serif}td{padding:2px 8px}.OK{background:#9f9}.FAILED,.UNCLEAN,.WRONG{background:#f99}.NON-STRICT,.INFORMATIONAL,.UNIMPLEMENTED{background:#ff9}</style>\n")
	fmt.Fprintf(&b, "<h1>%s</h1><pre>%s</pre><table><tr><th>case<th>behaviour<th>close<th>close code<th>ms<th>description\n",
		html.EscapeString(agent), html.EscapeString(Summary(results)))
	for _, r := range results {
		fmt.Fprintf(&b, "<tr><td>%s<td class=%q>%s<td class=%q>%s<td>%d<td>%.1f<td>%s\n",
			html.EscapeString(r.ID), strings.Fields(r.Behavior)[0], r.Behavior, strings.Fields(r.BehaviorClose)[0], r.BehaviorClose,
			r.RemoteCloseCode, r.Duration, html.EscapeString(r.Description))
	}
	b.WriteString("</table>\n")
	return os.WriteFile(filepath.Join(dir, "index.html"), []byte(b.String()), 0o644)
}
