// Command check validates the deployment files offline, with the code
// the real tools use and no Docker engine, registry or cluster:
//
//	go run . compose ../../docker-compose.yaml
//	go run . dockerfile ../../Dockerfile
//
// compose loads a Compose file as docker compose does (the compose-spec
// loader, github.com/compose-spec/compose-go): the Compose
// specification's JSON schema, interpolation, merge keys, and references
// between services (depends_on, volumes).
//
// dockerfile parses a Dockerfile and runs BuildKit's checks on it, as
// "docker build --check" does (github.com/moby/buildkit's dockerfile2llb):
// syntax, every instruction and its flags, stage references, and the
// build checks (undefined variables, casing, JSON-form commands…); any
// warning fails. Base images are not fetched: each resolves to an empty
// Linux image configuration.
//
// It lives in a module of its own so that these dependencies stay out of
// geoaccess's go.mod. make deploy-check runs it.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	digest "github.com/opencontainers/go-digest"
)

func main() {
	if len(os.Args) != 3 || (os.Args[1] != "compose" && os.Args[1] != "dockerfile") {
		fmt.Fprintln(os.Stderr, "usage: check compose FILE | check dockerfile FILE")
		os.Exit(2)
	}
	check := checkCompose
	if os.Args[1] == "dockerfile" {
		check = checkDockerfile
	}
	if err := check(os.Args[2]); err != nil {
		fmt.Fprintf(os.Stderr, "check %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func checkCompose(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	opts, err := cli.NewProjectOptions([]string{abs},
		cli.WithWorkingDirectory(filepath.Dir(abs)),
		cli.WithOsEnv,
		cli.WithConsistency(true), // references between services must resolve
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return err
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	names := p.ServiceNames()
	slices.Sort(names)
	fmt.Printf("%s: valid (project %s; services %s)\n", path, p.Name, strings.Join(names, ", "))
	return nil
}

// offlineImages answers every base image with an empty Linux image
// configuration, so the checks never reach a registry.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	cfg := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}`)
	return ref, digest.FromBytes(cfg), cfg, nil
}

func checkDockerfile(path string) error {
	dt, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st := llb.Scratch()
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	sm := llb.NewSourceMap(&st, filepath.Base(path), "Dockerfile", dt)
	sm.Definition = def
	res, err := dockerfile2llb.DockerfileLint(ctx, dt, dockerfile2llb.ConvertOpt{SourceMap: sm, MetaResolver: offlineImages{}})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var problems []string
	for _, w := range res.Warnings {
		line := 0
		if len(w.Location.Ranges) > 0 {
			line = int(w.Location.Ranges[0].Start.Line)
		}
		problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", path, line, w.RuleName, w.Detail))
	}
	if res.Error != nil {
		problems = append(problems, fmt.Sprintf("%s: %s", path, res.Error.Message))
	}
	if len(problems) > 0 {
		return fmt.Errorf("\n%s", strings.Join(problems, "\n"))
	}
	fmt.Printf("%s: valid, no build check warnings\n", path)
	return nil
}
