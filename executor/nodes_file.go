package executor

import (
	"context"
	"fmt"
	"io"
	"os"
)

func fileKinds() []*nodeKind {
	return []*nodeKind{
		{
			NodeType: NodeType{
				Name:        "file_read",
				Category:    "files",
				Description: "Reads a text file into a variable. Relative paths are resolved against the engine's working directory. Files over 4 MiB fail the run (the content goes into a variable).",
				Fields: []Field{
					{Name: "path", Type: TypeString, Required: true, Description: "file to read"},
					{Name: "output_var", Type: TypeVariable, Required: true, Description: "variable that receives the content as a string"},
				},
				Ports:     []string{""},
				ErrorPort: true,
			},
			exec: func(_ context.Context, c call) (string, error) {
				path, err := c.requiredStr("path")
				if err != nil {
					return "", err
				}
				f, err := c.openFile("path", path, os.O_RDONLY, 0, false)
				if err != nil {
					return "", err
				}
				data, err := readCapped(f, path, MaxFileReadBytes)
				if err != nil {
					return "", err
				}
				return "", c.setOutput(string(data))
			},
		},
		{
			NodeType: NodeType{
				Name:        "file_write",
				Category:    "files",
				Description: "Writes or appends to a file, creating missing parent directories.",
				Fields: []Field{
					{Name: "path", Type: TypeString, Required: true, Description: "file to write"},
					{Name: "content", Type: TypeAny, Required: true, Description: "text to write; other values are written as JSON"},
					{Name: "append", Type: TypeBoolean, Default: "false", Description: "append instead of replacing the file"},
				},
				Ports:     []string{""},
				ErrorPort: true,
			},
			effects: true,
			exec:    execFileWrite,
		},
	}
}

// readCapped reads at most max bytes of a file; a longer file (or an
// endless one such as /dev/zero) is a limit error, found after reading one
// byte more than max.
func readCapped(f *os.File, path string, max int64) ([]byte, error) {
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, limitError("file_read size", "%s is larger than %d MiB", path, max>>20)
	}
	return data, nil
}

func execFileWrite(_ context.Context, c call) (string, error) {
	path, err := c.requiredStr("path")
	if err != nil {
		return "", err
	}
	content, _, err := c.value("content")
	if err != nil {
		return "", err
	}
	appendMode, err := c.boolean("append", false)
	if err != nil {
		return "", err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendMode {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := c.openFile("path", path, flags, 0o644, true)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(stringify(content)); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return "", f.Close()
}
