package adequacy

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// adequacy holds validated domain values and the policy: no file format,
// transport or storage package may be imported by its non-test code.
func TestImportsNoFormatOrTransport(t *testing.T) {
	banned := []string{"gopkg.in/yaml", "encoding/json", "encoding/csv", "google.golang.org/grpc", "google.golang.org/protobuf",
		"github.com/jackc/pgx", "net/http", "os", "github.com/xuri/excelize"}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range af.Imports {
			path, _ := strconv.Unquote(im.Path.Value)
			for _, b := range banned {
				if path == b || strings.HasPrefix(path, b+"/") || (strings.HasSuffix(b, "yaml") && strings.HasPrefix(path, b)) {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}
