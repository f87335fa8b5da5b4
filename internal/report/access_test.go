package report

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// appendField quotes exactly as encoding/csv does.
func FuzzAppendField(f *testing.F) {
	for _, s := range []string{"", "M1", "a,b", `say "hi"`, " lead", "\ttab", "line\nbreak", `\.`, "\u00a0nbsp", "ok "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		w.Write([]string{s, "x"})
		w.Flush()
		got := string(appendField(nil, s)) + ",x\n"
		if got != want.String() {
			t.Fatalf("appendField(%q) = %q, encoding/csv %q", s, got, want.String())
		}
	})
}
