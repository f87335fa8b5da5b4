package data

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/geoaccess/geoaccess/adequacy"
)

// The embedded vocabulary of specialty designations and services, each
// entry with the public source it was checked against (docs/services.md).
const embeddedVocabulary = "assets/services/vocabulary.yaml"

// MaxVocabularyFileBytes bounds a services file: the embedded one is a few
// tens of kilobytes.
const MaxVocabularyFileBytes = 4 << 20

// VocabularyFileError is a problem in a services vocabulary file, with
// where it is. It wraps adequacy.ErrInvalidVocabulary.
type VocabularyFileError struct {
	File string
	Line int    // 0 when unknown
	Path string // e.g. services.3.designations.0
	Msg  string
}

func (e *VocabularyFileError) Error() string {
	return placed("services file", e.File, e.Line, e.Path, e.Msg)
}

func (e *VocabularyFileError) Unwrap() error { return adequacy.ErrInvalidVocabulary }

// How a services file combines with the embedded vocabulary.
const (
	// VocabularyExtend (the default) adds the file's entries to the
	// embedded vocabulary; an entry whose code the embedded vocabulary
	// has replaces that entry.
	VocabularyExtend = "extend"
	// VocabularyReplace uses the file's entries alone.
	VocabularyReplace = "replace"
)

// rawVocabulary mirrors the file format (docs/services.md).
type rawVocabulary struct {
	Version      string           `yaml:"version"`
	Source       string           `yaml:"source"`
	Mode         string           `yaml:"mode,omitempty"`
	Designations []rawDesignation `yaml:"designations"`
	Services     []rawService     `yaml:"services"`
}

type rawDesignation struct {
	Code        string   `yaml:"code"`
	Aliases     []string `yaml:"aliases,omitempty"`
	Name        string   `yaml:"name"`
	Body        string   `yaml:"body"`
	Disciplines []string `yaml:"disciplines"`
	Source      string   `yaml:"source"`
	Note        string   `yaml:"note,omitempty"`
}

type rawService struct {
	Code         string   `yaml:"code"`
	Aliases      []string `yaml:"aliases,omitempty"`
	Name         string   `yaml:"name"`
	Disciplines  []string `yaml:"disciplines"`
	Designations []string `yaml:"designations,omitempty"`
	Similar      []string `yaml:"similar,omitempty"`
	Source       string   `yaml:"source"`
	Note         string   `yaml:"note,omitempty"`
}

// vocabularyFile is a decoded, checked file before it meets NewVocabulary.
type vocabularyFile struct {
	file            string
	root            *yaml.Node
	version, source string
	mode            string
	ds              []adequacy.SpecialtyDesignation
	ss              []adequacy.Service
}

var embedded = sync.OnceValues(func() (*adequacy.Vocabulary, error) {
	b, err := assets.ReadFile(embeddedVocabulary)
	if err != nil {
		return nil, err
	}
	f, err := decodeVocabulary("embedded vocabulary", b)
	if err != nil {
		return nil, err
	}
	if f.mode != "" {
		return nil, &VocabularyFileError{File: f.file, Path: "mode", Msg: "the embedded vocabulary takes no mode"}
	}
	return f.build(nil)
})

// Vocabulary returns the embedded vocabulary of specialty designations
// and services (data/assets/services/vocabulary.yaml), parsed once.
func Vocabulary() (*adequacy.Vocabulary, error) { return embedded() }

// LoadVocabulary returns the vocabulary a --services-file gives: the
// embedded one when file is "", else the file (YAML or JSON) extending or
// replacing the embedded one as its mode says (see ParseVocabulary).
func LoadVocabulary(file string) (*adequacy.Vocabulary, error) {
	if file == "" {
		return Vocabulary()
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("services file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxVocabularyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("services file %s: %w", file, err)
	}
	if len(b) > MaxVocabularyFileBytes {
		return nil, &VocabularyFileError{File: file, Msg: fmt.Sprintf("the file is larger than %d bytes", MaxVocabularyFileBytes)}
	}
	return ParseVocabulary(file, b)
}

// ParseVocabulary parses a services vocabulary file (YAML or JSON). With
// mode: extend (the default) its designations and services are added to
// the embedded vocabulary, an entry whose code the embedded vocabulary
// already has replacing that entry in place; the result's version is
// "<embedded>+<file>". With mode: replace the file is the whole
// vocabulary. Every error is a *VocabularyFileError naming the line and
// field path; a conflict with an embedded entry names that entry.
func ParseVocabulary(file string, b []byte) (*adequacy.Vocabulary, error) {
	f, err := decodeVocabulary(file, b)
	if err != nil {
		return nil, err
	}
	if f.mode == VocabularyReplace {
		return f.build(nil)
	}
	base, err := Vocabulary()
	if err != nil {
		return nil, err
	}
	return f.build(base)
}

func decodeVocabulary(file string, b []byte) (*vocabularyFile, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return nil, &VocabularyFileError{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(root.Content) == 0 {
		return nil, &VocabularyFileError{File: file, Msg: "file is empty"}
	}
	var raw rawVocabulary
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		line, path, msg := decodePlace(root.Content[0], err, "services vocabulary")
		return nil, &VocabularyFileError{File: file, Line: line, Path: path, Msg: msg}
	}
	f := &vocabularyFile{file: file, root: root.Content[0], version: strings.TrimSpace(raw.Version),
		source: strings.TrimSpace(raw.Source), mode: raw.Mode}
	switch {
	case f.version == "":
		return nil, f.fail("version", "is required")
	case len(f.version) > 64:
		return nil, f.fail("version", "must be at most 64 characters")
	case f.source == "":
		return nil, f.fail("source", "is required: say where the entries come from")
	}
	switch raw.Mode {
	case "", VocabularyExtend, VocabularyReplace:
	default:
		return nil, f.fail("mode", "%q must be extend or replace", adequacy.ExcerptN(raw.Mode, 32))
	}
	for i, r := range raw.Designations {
		path := fmt.Sprintf("designations.%d", i)
		ds, err := f.disciplines(path, r.Disciplines)
		if err != nil {
			return nil, err
		}
		for _, req := range []struct{ field, value string }{{"name", r.Name}, {"body", r.Body}, {"source", r.Source}} {
			if strings.TrimSpace(req.value) == "" {
				return nil, f.fail(path+"."+req.field, "is required")
			}
		}
		f.ds = append(f.ds, adequacy.SpecialtyDesignation{Code: r.Code, Aliases: r.Aliases, Name: strings.TrimSpace(r.Name),
			Body: strings.TrimSpace(r.Body), Disciplines: ds, Source: strings.TrimSpace(r.Source), Note: strings.TrimSpace(r.Note)})
	}
	for i, r := range raw.Services {
		path := fmt.Sprintf("services.%d", i)
		ds, err := f.disciplines(path, r.Disciplines)
		if err != nil {
			return nil, err
		}
		for _, req := range []struct{ field, value string }{{"name", r.Name}, {"source", r.Source}} {
			if strings.TrimSpace(req.value) == "" {
				return nil, f.fail(path+"."+req.field, "is required")
			}
		}
		f.ss = append(f.ss, adequacy.Service{Code: r.Code, Aliases: r.Aliases, Name: strings.TrimSpace(r.Name), Disciplines: ds,
			Designations: r.Designations, Similar: r.Similar, Source: strings.TrimSpace(r.Source), Note: strings.TrimSpace(r.Note)})
	}
	return f, nil
}

func (f *vocabularyFile) fail(path, format string, args ...any) error {
	return &VocabularyFileError{File: f.file, Line: lineOf(f.root, path), Path: path, Msg: fmt.Sprintf(format, args...)}
}

func (f *vocabularyFile) disciplines(path string, in []string) ([]adequacy.Discipline, error) {
	if len(in) == 0 {
		return nil, f.fail(path+".disciplines", "name at least one discipline (DC, PT, OT, ST)")
	}
	out := make([]adequacy.Discipline, 0, len(in))
	for j, s := range in {
		d, err := adequacy.ParseDiscipline(s)
		if err != nil {
			return nil, f.fail(fmt.Sprintf("%s.disciplines.%d", path, j), "%q must be DC, PT, OT or ST", adequacy.ExcerptN(s, 32))
		}
		out = append(out, d)
	}
	return out, nil
}

// origin says where entry i of a merged list came from: the file's entry
// at that index, or (-1) the base vocabulary.
type origin []int

// build validates the file's entries, on their own or merged into base,
// through adequacy.NewVocabulary, and maps its errors back to the file.
func (f *vocabularyFile) build(base *adequacy.Vocabulary) (*adequacy.Vocabulary, error) {
	ds, dFrom := f.ds, identity(len(f.ds))
	ss, sFrom := f.ss, identity(len(f.ss))
	version, source := f.version, f.source
	if base != nil {
		ds, dFrom = mergeDesignations(base, f.ds)
		ss, sFrom = mergeServices(base, f.ss)
		version = base.Version + "+" + f.version
		source = f.source + " (extending " + base.Source + ")"
	}
	v, err := adequacy.NewVocabulary(version, source, ds, ss)
	var ve *adequacy.VocabularyError
	if !errors.As(err, &ve) {
		return v, err
	}
	from := dFrom
	if ve.Section == "services" {
		from = sFrom
	}
	switch {
	case ve.Section == "":
		return nil, &VocabularyFileError{File: f.file, Msg: strings.TrimPrefix(ve.Error(), "vocabulary: ")}
	case ve.Index < len(from) && from[ve.Index] >= 0:
		path := fmt.Sprintf("%s.%d", ve.Section, from[ve.Index])
		if ve.Field != "" {
			path += "." + ve.Field
		}
		return nil, f.fail(path, "%s", ve.Msg)
	}
	// The problem shows at an entry the file did not give: it conflicts
	// with something the file changed.
	return nil, &VocabularyFileError{File: f.file, Msg: "conflicts with the embedded " + strings.TrimPrefix(ve.Error(), "vocabulary: ")}
}

func identity(n int) origin {
	o := make(origin, n)
	for i := range o {
		o[i] = i
	}
	return o
}

func mergeDesignations(base *adequacy.Vocabulary, add []adequacy.SpecialtyDesignation) ([]adequacy.SpecialtyDesignation, origin) {
	var out []adequacy.SpecialtyDesignation
	var from origin
	at := map[string]int{}
	for _, d := range base.Designations() {
		at[d.Code] = len(out)
		out, from = append(out, *d), append(from, -1)
	}
	for i, d := range add {
		if j, ok := at[strings.ToUpper(strings.TrimSpace(d.Code))]; ok {
			out[j], from[j] = d, i
			continue
		}
		out, from = append(out, d), append(from, i)
	}
	return out, from
}

func mergeServices(base *adequacy.Vocabulary, add []adequacy.Service) ([]adequacy.Service, origin) {
	var out []adequacy.Service
	var from origin
	at := map[string]int{}
	for _, s := range base.Services() {
		at[s.Code] = len(out)
		out, from = append(out, *s), append(from, -1)
	}
	for i, s := range add {
		if j, ok := at[strings.ToLower(strings.TrimSpace(s.Code))]; ok {
			out[j], from[j] = s, i
			continue
		}
		out, from = append(out, s), append(from, i)
	}
	return out, from
}
