package client

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestReadEvents(t *testing.T) {
	stream := ": keep-alive\n\n" +
		"event: line\ndata: {\"message\":\"a\"}\n\n" +
		"data: first\ndata: second\n\n" + // no name: a "message" event with two data lines
		"event: end\ndata:{}\n\n" +
		"event: line\ndata: after the end\n\n"
	var got []string
	err := readEvents(strings.NewReader(stream), func(name string, data []byte) (bool, error) {
		got = append(got, name+"="+string(data))
		return name == "end", nil
	})
	want := `line={"message":"a"}|message=first` + "\n" + `second|end={}`
	if err != nil || strings.Join(got, "|") != want {
		t.Errorf("events %q, %v; want %q", got, err, want)
	}

	err = readEvents(strings.NewReader("event: line\ndata: x\n\nevent: li"), func(string, []byte) (bool, error) { return false, nil })
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a stream cut short: %v, want io.ErrUnexpectedEOF", err)
	}
}
