package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Everything the CLI prints that a user or a workflow supplied (names,
// ids, tags, log lines, errors) passes through escapeCell or escapeText,
// so that no escape sequence, NUL or bidirectional override reaches the
// terminal: a workflow must not be able to recolour, clear or reorder an
// operator's screen. The cluster refuses such characters in names, but
// log lines, results and names stored by older versions may hold them.

// escapeCell renders s for one table cell or one line: every control
// character (tabs and newlines too, which would break the columns),
// bidirectional formatting character and byte that is not UTF-8 is
// shown as a Go escape such as \x1b or \u202e.
func escapeCell(s string) string {
	return escape(s, false)
}

// escapeText is escapeCell for multi-line text such as an error
// message: newlines stay.
func escapeText(s string) string {
	return escape(s, true)
}

func escape(s string, keepNewlines bool) string {
	if isPrintable(s, keepNewlines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && keepNewlines:
			b.WriteByte('\n')
		case mustEscape(r):
			b.WriteString(escapeRune(r))
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// escapeJSON rewrites the characters that must not reach a terminal as
// JSON \u escapes. In encoding/json's output every such character other
// than the indentation's newlines is inside a string, where the escape
// means the same character.
func escapeJSON(s string) string {
	if isPrintable(s, true) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r != '\n' && mustEscape(r) {
			fmt.Fprintf(&b, `\u%04x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isPrintable(s string, keepNewlines bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || (mustEscape(r) && !(r == '\n' && keepNewlines)) {
			return false
		}
	}
	return true
}

func mustEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

func escapeRune(r rune) string {
	switch {
	case r == '\n':
		return `\n`
	case r == '\t':
		return `\t`
	case r == '\r':
		return `\r`
	case r < 0x80:
		return fmt.Sprintf(`\x%02x`, r)
	}
	return fmt.Sprintf(`\u%04x`, r)
}
