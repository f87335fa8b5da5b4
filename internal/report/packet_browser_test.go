package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
	"github.com/geoaccess/geoaccess/data"
)

// packetChromium finds a Chromium for the packet tests: $GEOACCESS_CHROMIUM,
// else chromium or chromium-browser on the PATH. Without one the test
// skips, except under CI=true (.ci/run installs it), where it fails.
func packetChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GEOACCESS_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (apt-get install chromium, or set GEOACCESS_CHROMIUM)")
	}
	t.Skip("chromium not found; the packet's browser test needs it")
	return ""
}

// An exception packet is a page a browser prints: Chromium loads it
// (the DOM it builds has every section and table) and prints it to PDF.
func TestPacketPrints(t *testing.T) {
	chromium := packetChromium(t)
	_, rep, area := smallNetwork(t)
	exs, _, err := rep.Exceptions(context.Background(), smallCandidates(), adequacy.ExceptionOptions{Nearest: 3})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := data.LoadProfiles()
	prof, _ := p.Get("cms-ma")
	dir := t.TempDir()
	if _, err := WriteExceptions(dir, exs, ExceptionContext{Profile: prof, AsOf: filingAsOf, RosterVersion: "small-1",
		CountySource: rep.CountySource, Area: area, Census: "Member file"}); err != nil {
		t.Fatal(err)
	}
	page := "file://" + filepath.Join(dir, ExceptionsDir, "33310-049.html")
	run := func(args ...string) []byte {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + t.TempDir()}, args...)
		out, err := exec.CommandContext(ctx, chromium, args...).Output()
		if err != nil {
			t.Fatalf("chromium %s: %v", strings.Join(args, " "), err)
		}
		return out
	}
	dom := string(run("--dump-dom", page))
	for _, s := range []string{"<h1>Exception request, 42 CFR 422.116(f)</h1>", "1. The standard", "3. Members not served",
		"4. Pattern of care", "5. Providers within the standard", "6. The plan's justification", "Speculator PT",
		"&lt;script&gt;alert(1)&lt;/script&gt;"} {
		if !strings.Contains(dom, s) {
			t.Errorf("the page Chromium built lacks %q", s)
		}
	}
	if strings.Count(dom, "<table>") < 4 {
		t.Errorf("the page Chromium built has %d tables", strings.Count(dom, "<table>"))
	}
	pdf := filepath.Join(t.TempDir(), "packet.pdf")
	run("--no-pdf-header-footer", "--print-to-pdf="+pdf, page)
	b, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pages := bytes.Count(b, []byte("/Type /Page")) - bytes.Count(b, []byte("/Type /Pages"))
	if !bytes.HasPrefix(b, []byte("%PDF-")) || pages < 1 || pages > 4 {
		t.Errorf("printed %d bytes, %d pages", len(b), pages)
	}
	t.Logf("printed: %d pages, %d bytes", pages, len(b))
}
