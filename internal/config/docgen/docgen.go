// Package docgen reads the doc comments of a struct type's fields from
// Go source, for the configuration file's sample (internal/config keeps
// them in a generated file, so the sample says what the code's
// documentation says).
package docgen

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
)

// Field is the documentation of one struct field.
type Field struct {
	// Name of the field; Doc its comment, or that of the group it follows
	// without a blank line (several fields may share one comment);
	// Group is the first field of that group.
	Name, Doc, Group string
}

// Fields returns the documented fields of type typeName in the Go
// package in dir (test files left out), in source order.
func Fields(dir, typeName string) ([]Field, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		var st *ast.StructType
		ast.Inspect(f, func(n ast.Node) bool {
			if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == typeName {
				st, _ = ts.Type.(*ast.StructType)
				return false
			}
			return st == nil
		})
		if st != nil {
			return fields(fset, st), nil
		}
	}
	return nil, fmt.Errorf("docgen: no struct %s in %s", typeName, dir)
}

// fields reads the struct's fields: a field without a comment of its own
// shares the one of the field right above it (no blank line between).
func fields(fset *token.FileSet, st *ast.StructType) []Field {
	var out []Field
	doc, group, lastLine := "", "", -2
	for _, f := range st.Fields.List {
		line := fset.Position(f.Pos()).Line
		if f.Doc != nil {
			doc, group = strings.TrimSpace(f.Doc.Text()), ""
		} else if line != lastLine+1 {
			doc, group = "", ""
		}
		lastLine = fset.Position(f.End()).Line
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			if group == "" {
				group = n.Name
			}
			out = append(out, Field{Name: n.Name, Doc: doc, Group: group})
		}
	}
	return out
}
