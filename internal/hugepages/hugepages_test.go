package hugepages

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestParseModeReadsTheBracketedChoice(t *testing.T) {
	for in, want := range map[string]string{
		"always [madvise] never\n": "madvise",
		"[always] madvise never\n": "always",
		"always madvise [never]":   "never",
	} {
		if got, err := parseMode(in); err != nil || got != want {
			t.Errorf("parseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "always madvise never", "[]", "[madvise"} {
		if got, err := parseMode(bad); err == nil {
			t.Errorf("parseMode(%q) = %q, want an error", bad, got)
		}
	}
}

func TestGODEBUGSettingsThatRuleAdviceOut(t *testing.T) {
	for godebug, want := range map[string]string{
		"":                            "",
		"disablethp=1":                "disablethp=1",
		"disablethp=2":                "disablethp=1", // any integer but 0, as in the runtime
		"madvdontneed=1,disablethp=1": "disablethp=1",
		"disablethp=0":                "",
		"disablethp=1,disablethp=0":   "", // the last wins, as in the runtime
		"disablethp=x":                "",
		"xdisablethp=1":               "",
		"harddecommit=1":              "harddecommit=1",
	} {
		if got := offByGODEBUG(godebug); got != want {
			t.Errorf("offByGODEBUG(%q) = %q, want %q", godebug, got, want)
		}
	}
}

func TestCheckAdvisesOnlyWhereTheSystemTakesAdvice(t *testing.T) {
	// mode is a kernel whose THP setting's choice is m (or unreadable,
	// with err), with 2 MiB huge pages and heuristic overcommit.
	mode := func(m string, err error) func(string) (string, error) {
		return settings(m, err, nil)
	}
	if err := check("", minStretch, mode("madvise", nil)); err != nil {
		t.Errorf("madvise: %v, want advice", err)
	}
	for name, c := range map[string]struct {
		godebug string
		n       int
		read    func(string) (string, error)
	}{
		"always":                    {"", minStretch, mode("always", nil)},
		"never":                     {"", minStretch, mode("never", nil)},
		"unreadable":                {"", minStretch, mode("", errors.New("no such file"))},
		"disablethp=1":              {"disablethp=1", minStretch, mode("madvise", nil)},
		"too small":                 {"", minStretch - 1, mode("madvise", nil)},
		"512 MiB huge pages":        {"", minStretch, settings("madvise", nil, map[string]string{pmdSizePath: "536870912"})},
		"strict overcommit":         {"", minStretch, settings("madvise", nil, map[string]string{overcommitPath: "2"})},
		"unreadable huge page size": {"", minStretch, settings("madvise", nil, map[string]string{pmdSizePath: ""})},
	} {
		if err := check(c.godebug, c.n, c.read); !errors.Is(err, ErrNotAdvised) {
			t.Errorf("%s: %v, want ErrNotAdvised", name, err)
		}
	}
}

// settings returns a reader of a kernel's settings: THP enabled with
// choice m (or err), 2 MiB huge pages, heuristic overcommit, and changed
// as with says.
func settings(m string, err error, with map[string]string) func(string) (string, error) {
	values := map[string]string{
		enabledPath:    "always madvise never",
		pmdSizePath:    "2097152",
		overcommitPath: "0",
	}
	if m != "" {
		values[enabledPath] = strings.Replace(values[enabledPath], m, "["+m+"]", 1)
	}
	maps.Copy(values, with)
	return func(path string) (string, error) {
		if path == enabledPath && err != nil {
			return "", err
		}
		return values[path], nil
	}
}

func FuzzParseMode(f *testing.F) {
	f.Add("always [madvise] never\n")
	f.Add("[")
	f.Fuzz(func(t *testing.T, s string) {
		if m, err := parseMode(s); err == nil && m == "" {
			t.Fatalf("parseMode(%q) gave an empty choice", s)
		}
	})
}
