package api

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// Cursors are opaque to clients: a version tag and the submission
// sequence number of the last job of the previous page, base64url
// encoded. The tag lets the format change without misreading old
// cursors.
const cursorTag = "j1:"

func encodeCursor(seq uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorTag + strconv.FormatUint(seq, 10)))
}

func decodeCursor(cursor string) (uint64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, errors.New("not base64url")
	}
	digits, ok := strings.CutPrefix(string(raw), cursorTag)
	if !ok {
		return 0, errors.New("unknown format")
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || seq == 0 {
		return 0, errors.New("bad position")
	}
	return seq, nil
}
