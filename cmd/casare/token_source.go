package main

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/casare/casare/node"
)

// defaultTokenFile is where a one-machine install (`casare node start`
// in the current directory, as `make run` does) writes its admin token,
// so that the CLI beside it needs no flags.
var defaultTokenFile = filepath.Join(node.DefaultDataDir, node.AdminTokenFile)

// resolveToken picks the API token a command sends, first found wins:
// --token, $CASARE_TOKEN, --token-file, then ./casare-data/admin.token
// if it exists. No token at all is not an error here: the API says 401,
// and callError says where a token comes from.
func resolveToken(flag, file string, getenv func(string) string) (string, error) {
	if t := strings.TrimSpace(flag); t != "" {
		return t, nil
	}
	if t := strings.TrimSpace(getenv("CASARE_TOKEN")); t != "" {
		return t, nil
	}
	if file != "" {
		return readTokenFile(file)
	}
	t, err := readTokenFile(defaultTokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return t, err
}
