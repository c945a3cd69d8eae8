package suite

import (
	"crypto/sha1"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/duplexgo/duplex/frame"
)

// msgSizes are the (payload length, message count, timeout, auto-fragment
// size) rows of cases 12 and 13.
var msgSizes = []struct {
	size, count int
	timeout     time.Duration
	frag        int
}{
	{16, 1000, 60, 0}, {64, 1000, 60, 0}, {256, 1000, 120, 0}, {1024, 1000, 240, 0},
	{4096, 1000, 480, 0}, {8192, 1000, 480, 0}, {16384, 1000, 480, 0}, {32768, 1000, 480, 0},
	{65536, 1000, 480, 0}, {131072, 1000, 480, 0},
	{8192, 1000, 480, 256}, {16384, 1000, 480, 256}, {32768, 1000, 480, 256}, {65536, 1000, 480, 256},
	{131072, 1000, 480, 256}, {131072, 1000, 480, 1024}, {131072, 1000, 480, 4096}, {131072, 1000, 480, 32768},
}

// testData is a data set for the compression cases. The original suite
// ships files (a novel, a bitmap, a PDF, JSON, HTML); these are generated
// stand-ins of the same kinds, deterministic, so the cases need no files.
type testData struct {
	desc   string
	binary bool
	data   []byte
}

func compressionData() []testData {
	rng := rand.New(rand.NewPCG(12, 13))
	words := strings.Fields("der die das und ist nicht ein zu ich es sich mit auf dem mir den so sie wie was mich du Faust Mephistopheles Gretchen Himmel Erde Geist Welt Nacht")
	var text strings.Builder
	for text.Len() < 200_000 {
		text.WriteString(words[rng.IntN(len(words))])
		if rng.IntN(12) == 0 {
			text.WriteString(".\n")
		} else {
			text.WriteByte(' ')
		}
	}
	bitmap := make([]byte, 0, 262_144)
	for y := 0; y < 512; y++ {
		for x := 0; x < 512; x++ {
			v := byte((x*y)>>7) ^ byte(rng.IntN(8))
			bitmap = append(bitmap, v)
		}
	}
	pdf := make([]byte, 0, 200_000)
	for len(pdf) < 200_000 {
		if rng.IntN(3) == 0 {
			pdf = append(pdf, fmt.Sprintf("%d 0 obj << /Type /Page /Length %d >> stream\n", rng.IntN(999), rng.IntN(9999))...)
		}
		for i := 0; i < 200; i++ {
			pdf = append(pdf, byte(rng.Uint32()))
		}
	}
	var js strings.Builder
	js.WriteString("[")
	for i := 0; js.Len() < 200_000; i++ {
		fmt.Fprintf(&js, `{"id":%d,"name":"user-%d","email":"user%d@example.com","active":%v,"score":%.3f,"tags":["a","b%d"],"city":"Zurich"},`,
			i, rng.IntN(100000), i, rng.IntN(2) == 0, rng.Float64()*100, rng.IntN(50))
	}
	var html strings.Builder
	html.WriteString("<!doctype html><html><head><title>data</title></head><body>")
	for i := 0; html.Len() < 200_000; i++ {
		fmt.Fprintf(&html, `<div class="row r%d"><a href="/item/%d">Item %d - &quot;%s&quot;</a><span>%d EUR</span></div>`+"\n",
			i%7, rng.IntN(99999), i, words[rng.IntN(len(words))], rng.IntN(1000))
	}
	html.WriteString("</body></html>")
	return []testData{
		{"Human readable text (generated German prose, binary)", true, []byte(text.String())},
		{"Picture-like data (generated 512x512 bitmap, binary)", true, bitmap},
		{"A larger PDF-like mix of text and random bytes (binary)", true, pdf},
		{"Large JSON data (generated, utf8)", false, []byte(js.String())},
		{"Large HTML data (generated, utf8)", false, []byte(html.String())},
	}
}

// deflate offer and accept parameters, as the original's
// PerMessageDeflateOffer(acceptNoContextTakeover=true,
// acceptMaxWindowBits=true, request...) and its accept functions.
func offer(requestNoCtx bool, requestBits int) string {
	s := "client_no_context_takeover; client_max_window_bits"
	if requestNoCtx {
		s += "; server_no_context_takeover"
	}
	if requestBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(requestBits)
	}
	return s
}

// acceptWith answers the first offer that allows what the server asks for
// (client_no_context_takeover when noCtx, client_max_window_bits when
// bits != 0), granting what the offer requested.
func acceptWith(noCtx bool, bits int) func([]map[string]string) (string, bool) {
	return func(offers []map[string]string) (string, bool) {
		for _, o := range offers {
			if _, ok := o["client_no_context_takeover"]; noCtx && !ok {
				continue
			}
			if _, ok := o["client_max_window_bits"]; bits != 0 && !ok {
				continue
			}
			var params []string
			if _, ok := o["server_no_context_takeover"]; ok {
				params = append(params, "server_no_context_takeover")
			}
			if v, ok := o["server_max_window_bits"]; ok && v != "" {
				params = append(params, "server_max_window_bits="+v)
			}
			if noCtx {
				params = append(params, "client_no_context_takeover")
			}
			if bits != 0 {
				params = append(params, "client_max_window_bits="+strconv.Itoa(bits))
			}
			return strings.Join(params, "; "), true
		}
		return "", false
	}
}

func acceptFirstOf(fns ...func([]map[string]string) (string, bool)) func([]map[string]string) (string, bool) {
	return func(offers []map[string]string) (string, bool) {
		for _, f := range fns {
			if a, ok := f(offers); ok {
				return a, true
			}
		}
		return "", false
	}
}

func addCompressionCases(cs *[]Case, s Scale) {
	sets := compressionData()
	run := func(id string, td testData, row int, dp *DeflateParams) {
		m := msgSizes[row]
		count := max(m.count/s.CountDiv, 1)
		*cs = append(*cs, Case{
			ID:          id,
			Description: fmt.Sprintf("Send %d compressed messages each of payload size %d, auto-fragment to %d octets (%s).", count, m.size, m.frag, td.desc),
			Deflate:     dp,
			run: func(p *peer) {
				p.mu.Lock()
				if !p.deflate {
					p.behavior, p.result = Unimplemented, "permessage-deflate was not negotiated"
					p.mu.Unlock()
					p.sendClose(frame.CloseNormal, nil)
					return
				}
				p.behavior, p.result = Failed, "did not finish in time"
				p.suppressClose = true
				p.expectedClose = closeExpectation{closedByMe: true, codes: normal, requireClean: true}
				p.autoFrag = m.frag
				ptr, sent := 0, 0
				var want [sha1.Size]byte
				send := func() {
					msg := make([]byte, m.size)
					for i := range msg {
						msg[i] = td.data[(ptr+i)%len(td.data)]
					}
					ptr = (ptr + m.size) % len(td.data)
					want = sha1.Sum(msg)
					sent++
					p.sendMessage(msg, td.binary)
				}
				p.onMessage = func(e Event) {
					if e.Binary != td.binary || len(e.Payload) != m.size || sha1.Sum([]byte(e.Payload)) != want {
						p.mu.Lock()
						p.behavior, p.result = Failed, "echo differs"
						p.mu.Unlock()
						p.sendClose(frame.CloseNormal, nil)
						return
					}
					if sent < count {
						send()
						return
					}
					p.mu.Lock()
					p.behavior, p.result = OK, "received all echoed messages in time"
					p.mu.Unlock()
					p.sendClose(frame.CloseNormal, nil)
				}
				p.mu.Unlock()
				send()
				p.closeAfter(m.timeout*time.Second, frame.CloseNormal)
				p.killAfter(m.timeout*time.Second + 5*time.Second)
			},
			judge: func(p *peer) {},
		})
	}
	defaultParams := &DeflateParams{Offers: []string{offer(false, 0)}, Accept: acceptWith(false, 0)}
	for j, td := range sets {
		for i := range msgSizes {
			run(fmt.Sprintf("12.%d.%d", j+1, i+1), td, i, defaultParams)
		}
	}
	params13 := []*DeflateParams{
		{Offers: []string{offer(false, 0)}, Accept: acceptWith(false, 0)},
		{Offers: []string{offer(true, 0)}, Accept: acceptWith(true, 0)},
		{Offers: []string{offer(false, 8)}, Accept: acceptWith(false, 8)},
		{Offers: []string{offer(false, 15)}, Accept: acceptWith(false, 15)},
		{Offers: []string{offer(true, 8)}, Accept: acceptWith(true, 8)},
		{Offers: []string{offer(true, 15)}, Accept: acceptWith(true, 15)},
		{Offers: []string{offer(true, 8), offer(true, 0), offer(false, 0)},
			Accept: acceptFirstOf(acceptWith(true, 8), acceptWith(true, 0), acceptWith(false, 0))},
	}
	json := sets[3]
	for j, dp := range params13 {
		for i := range msgSizes {
			run(fmt.Sprintf("13.%d.%d", j+1, i+1), json, i, dp)
		}
	}
}
