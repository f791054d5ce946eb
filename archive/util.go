package archive

import (
	"io/fs"
	"net/url"
)

// mustSub returns the subtree dir of an embedded file system; the
// directory is part of the binary, so a failure is a build mistake.
func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// redact hides a password in a URL before it goes into an error.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
