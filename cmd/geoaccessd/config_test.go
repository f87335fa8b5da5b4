package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/geoaccess/geoaccess/adequacy"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestConfigFlagWinsOverEnv(t *testing.T) {
	env := envOf(map[string]string{
		"GEOACCESS_LISTEN":                          "0.0.0.0:1",
		"GEOACCESS_METRICS_LISTEN":                  "0.0.0.0:2",
		"GEOACCESS_PROFILE_FILE":                    "a.yaml, b.yaml",
		"GEOACCESS_SHUTDOWN_GRACE":                  "3s",
		"GEOACCESS_LOG_LEVEL":                       "debug",
		"GEOACCESS_KEEPALIVE_PERMIT_WITHOUT_STREAM": "false",
		"GEOACCESS_PROFILE_EXPIRY":                  "fail",
	})
	c, err := parseConfig([]string{"--listen", "127.0.0.1:9"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != "127.0.0.1:9" {
		t.Errorf("listen %q: the flag must win", c.listen)
	}
	if c.metricsListen != "0.0.0.0:2" || c.shutdownGrace != 3*time.Second || c.logLevel.String() != "DEBUG" || c.keepalive.PermitWithoutStream {
		t.Errorf("env not applied: %+v", c)
	}
	if !slices.Equal(c.profileFiles, []string{"a.yaml", "b.yaml"}) {
		t.Errorf("profile files %q", c.profileFiles)
	}
	if c.profileExpiry != adequacy.FailExpired {
		t.Errorf("profile expiry %v", c.profileExpiry)
	}
	if _, err := parseConfig([]string{"--profile-expiry", "sometimes"}, envOf(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "want carry-forward or fail") {
		t.Errorf("bad --profile-expiry: %v", err)
	}
}

func TestConfigRepeatedFlagWinsOverEnv(t *testing.T) {
	c, err := parseConfig([]string{"--profile-file", "x.yaml", "--profile-file", "y.yaml"},
		envOf(map[string]string{"GEOACCESS_PROFILE_FILE": "a.yaml"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.profileFiles, []string{"x.yaml", "y.yaml"}) {
		t.Errorf("profile files %q", c.profileFiles)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		args []string
		env  map[string]string
	}{
		{[]string{"--log-format", "xml"}, nil},
		{[]string{"--tls-cert", "c.pem"}, nil},
		{[]string{"--tls-client-ca", "ca.pem"}, nil},
		{[]string{"--shutdown-grace", "-1s"}, nil},
		{[]string{"--max-recv-bytes", "0"}, nil},
		{[]string{"stray"}, nil},
		{nil, map[string]string{"GEOACCESS_SHUTDOWN_GRACE": "soon"}},
		{nil, map[string]string{"GEOACCESS_LOG_LEVEL": "loud"}},
	}
	for _, tt := range tests {
		if _, err := parseConfig(tt.args, envOf(tt.env), io.Discard); err == nil {
			t.Errorf("%q %v: no error", tt.args, tt.env)
		}
	}
}

// TestEveryFlagIsDocumented keeps docs/operations.md complete: each flag
// and its environment variable appear in its table.
func TestEveryFlagIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	fs := newFlagSet(&config{}, io.Discard)
	fs.VisitAll(func(f *flag.Flag) {
		row := fmt.Sprintf("| `--%s` | `%s` |", f.Name, envName(f.Name))
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/operations.md lacks the row %s", row)
		}
	})
}
