package executor

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/file"
)

// ExplainExpressionError says in one short line what is wrong with an
// expression that Evaluate refused, for a person who wrote it (the
// debugger's watches): in the words of the expression language rather
// than Go's (a number, not float64), without the expression itself, which
// the caller shows beside it, and with the column where the problem is.
func ExplainExpressionError(err error) string {
	var secret *SecretNotHandedError
	var limit *LimitError
	var fe *file.Error
	var unset *UnsetError
	switch {
	case errors.As(err, &unset):
		return ExplainExpressionError(unset.Err) + "; " + unset.hint()
	case errors.As(err, &secret):
		return fmt.Sprintf("secret(%q) gives nothing here: a watch sees only the variables, with secrets as ***", secret.Name)
	case errors.As(err, &limit):
		return explainLimit(limit)
	case errors.As(err, &fe):
		msg := explainMessage(fe.Message)
		// An expression that ends too early is wrong at its end.
		if fe.Line > 0 && !strings.HasPrefix(fe.Message, "unexpected token EOF") {
			msg += fmt.Sprintf(" (column %d)", fe.Column+1)
		}
		return msg
	}
	return explainMessage(err.Error())
}

func explainLimit(l *LimitError) string {
	switch l.Limit {
	case "expression time":
		return "the expression runs too long: it was stopped at its time limit"
	case "expression memory":
		return "the value is too large: the expression needs more memory than it may use"
	}
	return fmt.Sprintf("the expression goes past the %s limit", l.Limit)
}

// explanations rewrite expr's messages, the first match wins. In text,
// $n is the pattern's group n: as written when it is a name the user
// wrote, in the language's words when n is in types (a Go type name).
var explanations = []struct {
	pattern *regexp.Regexp
	text    string
	types   []int
}{
	{regexp.MustCompile(`^unexpected token EOF`), "the expression ends too early", nil},
	{regexp.MustCompile(`^unexpected token \w+\("(.*)"\)`), `unexpected "$1"`, nil},
	{regexp.MustCompile(`^cannot fetch (.+) from <nil>`), `cannot read "$1": the value before it is not set`, nil},
	{regexp.MustCompile(`^cannot fetch (.+) from (.+)`), `cannot read "$1" from $2`, []int{2}},
	{regexp.MustCompile(`^invalid operation: cannot call (nil|<nil>)`), "calls a function that does not exist", nil},
	{regexp.MustCompile(`^index out of range: (-?\d+) \(array length is (\d+)\)`), "index $1 is out of range: the list has $2 items", nil},
	{regexp.MustCompile(`^invalid operation: (\S+) \(mismatched types (.+) and (.+)\)`), "cannot use $1 on $2 and $3", []int{2, 3}},
	{regexp.MustCompile(`^cannot use (.+) as argument \(type (.+)\) to call (\w+)`), "$3 needs $2 here, not $1", []int{1, 2}},
	{regexp.MustCompile(`^invalid argument for (\w+) \(type (.+)\)`), "$1 cannot take $2", []int{2}},
	{regexp.MustCompile(`^unknown name (\w+)`), `"$1" is not a variable or function`, nil},
	{regexp.MustCompile(`^interface conversion: interface \{\} is nil, not (.+)`), "needs $1 here, not nothing", []int{1}},
	{regexp.MustCompile(`^invalid operation: (\S+) (\S+) (\S+)$`), "cannot use $2 on $1 and $3", []int{1, 3}},
	{regexp.MustCompile(`^invalid operation: (\S+) (\S+)$`), "cannot use $1 on $2", []int{2}},
}

// goTypes are the Go type names in expr's messages, in the words of the
// expression language.
var goTypes = map[string]string{
	"float64": "a number", "int": "a number", "int64": "a number", "string": "text", "bool": "true or false",
	"<nil>": "nothing", "map[string]interface {}": "an object", "[]interface {}": "a list", "interface {}": "a value",
}

func explainMessage(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	for _, e := range explanations {
		groups := e.pattern.FindStringSubmatch(msg)
		if groups == nil {
			continue
		}
		for _, i := range e.types {
			if words, ok := goTypes[groups[i]]; ok {
				groups[i] = words
			}
		}
		return os.Expand(e.text, func(n string) string {
			i, err := strconv.Atoi(n)
			if err != nil || i >= len(groups) {
				return "$" + n
			}
			return groups[i]
		})
	}
	return strings.TrimPrefix(msg, "invalid operation: ")
}
