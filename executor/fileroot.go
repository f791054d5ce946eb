package executor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrOutsideFileRoot marks a file node refused because its path leaves the
// robot's file root.
var ErrOutsideFileRoot = errors.New("path is outside the robot's file root")

// ResolveFileRoot returns dir as a file root: absolute, with symbolic
// links resolved, and an existing directory.
func ResolveFileRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("file root %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("file root %s: %w", dir, err)
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("file root %s: %w", dir, err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("file root %s is not a directory", dir)
	}
	return real, nil
}

// rooted returns path (already resolved against the working directory)
// relative to the file root, or a business failure if it leaves the root
// by name, by .., or through a symbolic link anywhere along it. Opening
// the result through os.Root (see openInRoot) closes the race of a link
// swapped in afterwards.
func (e *Engine) rooted(field, path string) (string, error) {
	root, err := ResolveFileRoot(e.root)
	if err != nil {
		return "", &kindError{kind: FailureBusiness, err: err}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	outside := func(shown string) error {
		return &kindError{kind: FailureBusiness, err: fmt.Errorf("%s: %s: %w %s (file-root)", field, shown, ErrOutsideFileRoot, root)}
	}
	rel, ok := within(root, abs)
	if !ok {
		return "", outside(path)
	}
	// The deepest part of the path that exists may be, or pass through, a
	// link that leads out.
	real, err := evalExisting(abs)
	if err != nil {
		return "", err
	}
	if _, ok := within(root, real); !ok {
		return "", outside(path + " (through a symbolic link to " + real + ")")
	}
	return rel, nil
}

// within returns path relative to root if it lies inside it.
func within(root, path string) (string, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return rel, true
}

// evalExisting resolves the symbolic links of the longest existing prefix
// of path and appends the rest unchanged.
func evalExisting(path string) (string, error) {
	rest := ""
	for p := path; ; {
		real, err := filepath.EvalSymlinks(p)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return path, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}

// openInRoot opens rel inside the file root through os.Root, which refuses
// to follow a link out of it even if one appeared after rooted checked.
// With mkdir it first creates rel's missing parent directories.
func (e *Engine) openInRoot(rel string, flag int, perm fs.FileMode, mkdir bool) (*os.File, error) {
	root, err := os.OpenRoot(e.root)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if mkdir {
		if err := root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
			return nil, err
		}
	}
	return root.OpenFile(rel, flag, perm)
}

// openFile opens the path a file node's field names, resolved against
// the working directory and confined to the file root when there is one.
// With mkdir it creates missing parent directories first.
func (c call) openFile(field, p string, flag int, perm fs.FileMode, mkdir bool) (*os.File, error) {
	path := c.path(p)
	e := c.r.engine
	if e.root == "" {
		if mkdir {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return nil, err
			}
		}
		return os.OpenFile(path, flag, perm)
	}
	rel, err := e.rooted(field, path)
	if err != nil {
		return nil, err
	}
	return e.openInRoot(rel, flag, perm, mkdir)
}

// checkRooted refuses a directory or file path a node uses other than by
// opening it (the shell node's dir) when it leaves the file root.
func (c call) checkRooted(field, path string) error {
	if c.r.engine.root == "" {
		return nil
	}
	_, err := c.r.engine.rooted(field, path)
	return err
}
