package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The deployment files (Dockerfile, docker-compose.yaml, deploy/kubernetes)
// are checked against their schemas in CI (make deploy-check). These tests
// check what no schema knows: that they configure geoaccessd with flags it
// has and values it accepts, and that their parts agree with each other.

const kubeDir = "../../deploy/kubernetes"

// yamlDocs reads every document of a YAML file.
func yamlDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var docs []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			return docs
		} else if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// at walks a decoded YAML value by map keys and list indexes.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// kube returns the manifests by kind and name.
func kube(t *testing.T) map[string]map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(kubeDir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	out := map[string]map[string]any{}
	for _, f := range files {
		for _, d := range yamlDocs(t, f) {
			kind, _ := at(d, "kind").(string)
			name, _ := at(d, "metadata", "name").(string)
			out[kind+"/"+name] = d
		}
	}
	return out
}

// flagEnv maps each GEOACCESS_* variable to its flag.
func flagEnv(t *testing.T) map[string]string {
	vars := map[string]string{}
	newFlagSet(&config{}, io.Discard).VisitAll(func(f *flag.Flag) { vars[envName(f.Name)] = f.Name })
	return vars
}

// parseEnv runs geoaccessd's configuration on an environment alone.
func parseEnv(t *testing.T, what string, env map[string]string) *config {
	t.Helper()
	vars := flagEnv(t)
	for k := range env {
		if _, ok := vars[k]; strings.HasPrefix(k, envPrefix) && !ok {
			t.Errorf("%s sets %s, which is no geoaccessd flag", what, k)
		}
	}
	cfg, err := parseConfig(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, io.Discard)
	if err != nil {
		t.Fatalf("%s: geoaccessd refuses its configuration: %v", what, err)
	}
	return cfg
}

func TestKubernetesConfiguresRealFlags(t *testing.T) {
	m := kube(t)
	dep := m["Deployment/geoaccess"]
	pod := at(dep, "spec", "template", "spec")
	ctr := at(pod, "containers", 0)
	env := map[string]string{}
	for k, v := range at(m["ConfigMap/geoaccess"], "data").(map[string]any) {
		env[k] = v.(string)
	}
	for _, e := range at(ctr, "env").([]any) {
		name := at(e, "name").(string)
		switch {
		case at(e, "value") != nil:
			env[name] = at(e, "value").(string)
		case at(e, "valueFrom", "secretKeyRef", "key") != nil:
			key := at(e, "valueFrom", "secretKeyRef", "key").(string)
			env[name] = at(m["Secret/geoaccess"], "stringData", key).(string) // the example's
		}
	}
	if at(ctr, "envFrom", 0, "configMapRef", "name") != "geoaccess" {
		t.Error("the container does not read the ConfigMap")
	}
	cfg := parseEnv(t, "the Deployment", env)
	if cfg.db.url == "" || cfg.db.reloadAt != "02:00" || cfg.authTokens == "" {
		t.Errorf("the Deployment serves without the database, the nightly reload or tokens: %+v", cfg)
	}

	// The tokens file is where the Secret is mounted.
	mount := at(ctr, "volumeMounts", 0, "mountPath").(string)
	item := at(pod, "volumes", 0, "secret", "items", 0, "path").(string)
	if filepath.Join(mount, item) != cfg.authTokens || at(pod, "volumes", 0, "secret", "secretName") != "geoaccess" {
		t.Errorf("tokens at %s, the Secret mounted as %s", cfg.authTokens, filepath.Join(mount, item))
	}
	if _, ok := at(m["Secret/geoaccess"], "stringData", at(pod, "volumes", 0, "secret", "items", 0, "key").(string)).(string); !ok {
		t.Error("the mounted Secret key is not in the example Secret")
	}

	// Probes and ports: the gRPC port everywhere is the one geoaccessd
	// listens on.
	_, port, _ := strings.Cut(cfg.listen, ":")
	_, mport, _ := strings.Cut(cfg.metricsListen, ":")
	ports := map[string]string{}
	for _, p := range at(ctr, "ports").([]any) {
		ports[at(p, "name").(string)] = strconv.Itoa(at(p, "containerPort").(int))
	}
	if ports["grpc"] != port || ports["metrics"] != mport {
		t.Errorf("container ports %v, geoaccessd listens on %s and %s", ports, port, mport)
	}
	for _, probe := range []string{"startupProbe", "readinessProbe", "livenessProbe"} {
		if p := at(ctr, probe, "grpc", "port"); p == nil || strconv.Itoa(p.(int)) != port {
			t.Errorf("%s is not a gRPC probe on port %s: %v", probe, port, at(ctr, probe))
		}
	}

	// Shutdown: the pod's grace outlasts the preStop pause and the drain.
	grace := time.Duration(at(pod, "terminationGracePeriodSeconds").(int)) * time.Second
	pause := time.Duration(at(ctr, "lifecycle", "preStop", "sleep", "seconds").(int)) * time.Second
	if grace <= pause+cfg.shutdownGrace {
		t.Errorf("terminationGracePeriodSeconds %v ≤ preStop %v + --shutdown-grace %v: calls would be cut off", grace, pause, cfg.shutdownGrace)
	}

	// Memory: the GC's soft limit is under the container's hard one.
	if limit, soft := quantity(t, at(ctr, "resources", "limits", "memory")), quantity(t, env["GOMEMLIMIT"]); soft <= 0 || soft >= limit {
		t.Errorf("GOMEMLIMIT %d ≥ the memory limit %d", soft, limit)
	}
	if at(ctr, "resources", "limits", "cpu") != nil {
		t.Error("a CPU limit throttles the tail latency")
	}

	// Every selector selects the Deployment's pods.
	labels := at(dep, "spec", "template", "metadata", "labels").(map[string]any)
	selects := func(what string, sel any) {
		for k, v := range sel.(map[string]any) {
			if labels[k] != v {
				t.Errorf("%s selects %s=%v; the pods have %v", what, k, v, labels)
			}
		}
	}
	selects("the Deployment", at(dep, "spec", "selector", "matchLabels"))
	selects("the PodDisruptionBudget", at(m["PodDisruptionBudget/geoaccess"], "spec", "selector", "matchLabels"))
	for _, s := range []string{"Service/geoaccess", "Service/geoaccess-headless"} {
		selects(s, at(m[s], "spec", "selector"))
		if at(m[s], "spec", "ports", 0, "targetPort") != "grpc" {
			t.Errorf("%s does not target the grpc port", s)
		}
	}
	if at(pod, "serviceAccountName") != "geoaccess" || m["ServiceAccount/geoaccess"] == nil {
		t.Error("the pods' service account is not defined")
	}
}

// quantity parses the Kubernetes memory quantities used here (Mi, Gi) and
// Go's GOMEMLIMIT (MiB, GiB).
func quantity(t *testing.T, v any) int64 {
	t.Helper()
	s, _ := v.(string)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"MiB", 1 << 20}, {"GiB", 1 << 30}, {"Mi", 1 << 20}, {"Gi", 1 << 30}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			i, err := strconv.ParseInt(n, 10, 64)
			if err != nil {
				t.Fatalf("quantity %q: %v", s, err)
			}
			return i * u.mult
		}
	}
	t.Fatalf("quantity %q: unknown unit", s)
	return 0
}

// The kustomization applies every manifest but the example Secret and the
// migration Job, which are applied by hand.
func TestKustomizationListsTheManifests(t *testing.T) {
	k := yamlDocs(t, filepath.Join(kubeDir, "kustomization.yaml"))[0]
	var listed []string
	for _, r := range at(k, "resources").([]any) {
		listed = append(listed, r.(string))
	}
	files, _ := filepath.Glob(filepath.Join(kubeDir, "*.yaml"))
	var want []string
	for _, f := range files {
		switch b := filepath.Base(f); b {
		case "kustomization.yaml", "secret.example.yaml", "job-migrate.yaml":
		default:
			want = append(want, b)
		}
	}
	slices.Sort(listed)
	if !slices.Equal(listed, want) {
		t.Errorf("kustomization lists %v, want %v", listed, want)
	}
}

// docker-compose.yaml and the Dockerfile set only real flags, with values
// geoaccessd accepts, and compose waits longer than the drain.
func TestComposeAndDockerfileConfigureRealFlags(t *testing.T) {
	c := yamlDocs(t, "../../docker-compose.yaml")[0]
	env := map[string]string{}
	for k, v := range at(c, "services", "geoaccessd", "environment").(map[string]any) {
		env[k] = v.(string)
	}
	cfg := parseEnv(t, "docker-compose.yaml", env)
	if cfg.db.url == "" {
		t.Error("compose's geoaccessd does not serve from the database")
	}
	stop, err := time.ParseDuration(at(c, "services", "geoaccessd", "stop_grace_period").(string))
	if err != nil || stop <= cfg.shutdownGrace {
		t.Errorf("stop_grace_period %v ≤ --shutdown-grace %v", stop, cfg.shutdownGrace)
	}
	// The CLI services get the same URL through DATABASE_URL.
	if at(c, "x-geoaccess", "environment", "DATABASE_URL") != cfg.db.url {
		t.Errorf("the CLI and the server use different databases")
	}

	f, err := os.Open("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	denv := map[string]string{}
	sc := bufio.NewScanner(f)
	inEnv := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "ENV "); ok {
			line, inEnv = rest, true
		}
		if !inEnv {
			continue
		}
		inEnv = strings.HasSuffix(line, `\`)
		for _, kv := range strings.Fields(strings.TrimSuffix(line, `\`)) {
			k, v, _ := strings.Cut(kv, "=")
			denv[k] = v
		}
	}
	if len(denv) == 0 {
		t.Fatal("no ENV in the Dockerfile")
	}
	cfg = parseEnv(t, "the Dockerfile", denv)
	if cfg.listen != ":8443" || cfg.logFormat != "json" {
		t.Errorf("the image listens on %q and logs %q", cfg.listen, cfg.logFormat)
	}
}
