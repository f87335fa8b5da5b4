package main

import (
	"os"
	"testing"

	"github.com/geoaccess/geoaccess/data"
)

func writeSampleRoster(t *testing.T, path string) {
	t.Helper()
	r, err := data.SampleRoster()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := data.WriteRoster(f, r.Providers); err != nil {
		t.Fatal(err)
	}
}
