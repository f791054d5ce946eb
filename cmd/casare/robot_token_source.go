package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// envRobotToken names the environment variable robot connect reads its
// token from when neither --token-file nor --token is given.
const envRobotToken = "CASARE_ROBOT_TOKEN"

// maxTokenFileBytes caps what a token file may hold: a token is well under
// 200 bytes, so anything larger is the wrong file.
const maxTokenFileBytes = 4 << 10

// errNoRobotToken says where a robot token may come from.
var errNoRobotToken = errors.New("no robot token: give --token-file FILE or set " + envRobotToken +
	" (create one with 'casare robot token create --name N')")

// robotTokenSource is where robot connect may find its token, in the
// order it looks: --token-file, then --token, then the environment.
type robotTokenSource struct {
	file string
	flag string
	env  string
}

// resolve returns the token, warning on warn when it came from --token,
// which leaves it in the shell's history and in the process list.
func (s robotTokenSource) resolve(warn io.Writer) (string, error) {
	switch {
	case s.file != "" && s.flag != "":
		return "", errors.New("give either --token-file or --token, not both")
	case s.file != "":
		return readTokenFile(s.file)
	case s.flag != "":
		fmt.Fprintln(warn, "warning: --token leaves the robot token in your shell history and in 'ps' output; "+
			"use --token-file FILE or "+envRobotToken+" instead")
		return s.flag, nil
	case strings.TrimSpace(s.env) != "":
		return strings.TrimSpace(s.env), nil
	}
	return "", errNoRobotToken
}

// readTokenFile reads a token file holding nothing but the token (white
// space around it is ignored).
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileBytes+1))
	if err != nil {
		return "", fmt.Errorf("--token-file %s: %w", path, err)
	}
	if len(data) > maxTokenFileBytes {
		return "", fmt.Errorf("--token-file %s: larger than %d bytes; it should hold only the robot token", path, maxTokenFileBytes)
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("--token-file %s is empty", path)
	}
	return token, nil
}
