//go:build unix

package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// row is one printed figure.
type row struct {
	nodes  int
	figure string
	value  float64
	unit   string
	// ratio is value over the 64-concurrent raw Raft apply rate of the
	// same cluster; 0 prints nothing.
	ratio float64
	// target, when set, is checked on 3-node rows only: that is what the
	// targets are stated for. ratioTarget is an aim on ratio instead.
	target, ratioTarget *target
	// cpu is this process's CPU time per item in µs; 0 prints nothing.
	cpu float64
	// others is the CPU share other processes used meanwhile; < 0 is
	// unknown.
	others float64
	note   string
}

// target is a goal a figure must meet.
type target struct {
	atLeast bool // otherwise at most
	value   float64
}

func (t *target) String() string {
	if t.atLeast {
		return "≥ " + formatValue(t.value)
	}
	return "≤ " + formatValue(t.value)
}

func (t *target) met(v float64) bool {
	if t.atLeast {
		return v >= t.value
	}
	return v <= t.value
}

func atLeast(v float64) *target { return &target{atLeast: true, value: v} }
func atMost(v float64) *target  { return &target{value: v} }

// report collects rows as the figures come in.
type report struct{ rows []row }

func (r *report) add(x row) { r.rows = append(r.rows, x) }

// print writes the table: figures and units left-aligned, numbers
// right-aligned.
func (r *report) print(w io.Writer) {
	head := []string{"nodes", "figure", "value", "unit", "×raft64", "target (3 nodes)", "CPU µs/item", "others", "note"}
	cells := [][]string{head}
	for _, x := range r.rows {
		ratio := ""
		if x.ratio > 0 {
			ratio = strconv.FormatFloat(x.ratio, 'f', 2, 64)
		}
		cpu := ""
		if x.cpu > 0 {
			cpu = formatValue(x.cpu)
		}
		others := "?"
		if x.others >= 0 {
			others = strconv.Itoa(int(x.others*100+0.5)) + "%"
		}
		cells = append(cells, []string{strconv.Itoa(x.nodes), x.figure, formatValue(x.value), x.unit, ratio, x.goal(x.value, x.ratio), cpu, others, x.note})
	}
	printCells(w, cells, []bool{true, false, true, false, true, false, true, true, false})
}

// goal is the row's aim and whether value (or, for an aim on the ratio
// to raw Raft, ratio) meets it; "" without one.
func (x row) goal(value, ratio float64) string {
	t, v, prefix := x.target, value, ""
	if t == nil && x.ratioTarget != nil {
		t, v, prefix = x.ratioTarget, ratio, "×raft64 "
	}
	if t == nil || x.nodes != 3 {
		return ""
	}
	verdict := "ok"
	if !t.met(v) {
		verdict = "MISS"
	}
	return prefix + t.String() + " " + verdict
}

// printCells writes rows of cells in columns as wide as their widest
// cell, padded on the left where rightAligned says so; the last column
// is not padded.
func printCells(w io.Writer, cells [][]string, rightAligned []bool) {
	width := make([]int, len(rightAligned))
	for _, line := range cells {
		for i, c := range line {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, line := range cells {
		var b strings.Builder
		for i, c := range line {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			switch {
			case i == len(line)-1:
				b.WriteString(c)
			case rightAligned[i]:
				b.WriteString(pad + c + "  ")
			default:
				b.WriteString(c + pad + "  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

// formatValue prints rates as whole numbers with thousands separators
// and small values (milliseconds, ratios) with decimals.
func formatValue(v float64) string {
	switch {
	case math.Abs(v) >= 100:
		return groupThousands(int64(math.Round(v)))
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
