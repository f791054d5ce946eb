package api

import (
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzCheckUTF8 checks that the search for the field holding a bad byte
// never panics, whatever the body, and refuses exactly the bodies that
// are not UTF-8.
func FuzzCheckUTF8(f *testing.F) {
	for _, seed := range []string{
		"{\"a\":\"\xff\"}", "{\"a\":[1,{\"b\":\"x\xc3\"}]}", "{\"\xfe\":1}", "[[[\"\x80\"]]]", "\"\xff\"", "{\"a\":", "}}]]\xff", "{\"a\":\"ok\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkUTF8(data, "")
		if (err == nil) != utf8.Valid(data) {
			t.Fatalf("checkUTF8(%q) = %v", data, err)
		}
		var ae *apiError
		if err != nil && (!errors.As(err, &ae) || ae.details["field"] == "") {
			t.Fatalf("checkUTF8(%q) names no field: %v", data, err)
		}
	})
}

func TestJSONPathAt(t *testing.T) {
	cases := map[string]string{
		"{\"a\":\"\xff\"}":                           "a",
		"{\"a\":[1,{\"b\":\"x\xc3\"}]}":              "a[1].b",
		"{\"x\":{\"y\":1},\"z\":[\"q\",\"\xfe\"]}":   "z[1]",
		"{\"k\xff\":1}":                              "k\ufffd",
		"{\"w\":{\"nodes\":[{},{\"id\":\"\x80\"}]}}": "w.nodes[1].id",
		"[\"ok\",\"\xff\"]":                          "[1]",
	}
	for data, want := range cases {
		if got := jsonPathAt([]byte(data), firstInvalidUTF8([]byte(data))); got != want {
			t.Errorf("jsonPathAt(%q) = %q, want %q", data, got, want)
		}
	}
}
