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

// formatValue prints a value for tables and chart labels: up to 10
// significant digits, NaN as "-".
func formatValue(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return strconv.FormatFloat(v, 'g', 10, 64)
}

// chartWidth is the width of a chart written to w when --width is not
// given: the terminal's, within the bounds of --width, or 80 columns when
// w is not a terminal.
func chartWidth(w io.Writer) int {
	if n := terminalWidth(w); n > 0 {
		return min(max(n, minWidth), maxWidth)
	}
	return 80
}

// brailleBits[x][y] is the bit of the dot in column x (0, 1) and row y
// (0 at the top, to 3) of a braille cell.
var brailleBits = [2][4]rune{{0x01, 0x02, 0x04, 0x40}, {0x08, 0x10, 0x20, 0x80}}

// canvas is a grid of braille dots.
type canvas struct {
	cols, rows int // in dots
	cells      [][]rune
}

func newCanvas(width, height int) *canvas {
	c := &canvas{cols: width * 2, rows: height * 4, cells: make([][]rune, height)}
	for i := range c.cells {
		c.cells[i] = make([]rune, width)
	}
	return c
}

// set sets the dot at x (from the left) and y (from the bottom).
func (c *canvas) set(x, y int) {
	if x < 0 || y < 0 || x >= c.cols || y >= c.rows {
		return
	}
	top := c.rows - 1 - y
	c.cells[top/4][x/2] |= brailleBits[x%2][top%4]
}

// line draws a straight line of dots from (x0, y0) to (x1, y1).
func (c *canvas) line(x0, y0, x1, y1 int) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	err := dx + dy
	for {
		c.set(x0, y0)
		if x0 == x1 && y0 == y1 {
			return
		}
		if e2 := 2 * err; e2 >= dy {
			err += dy
			x0 += sx
		} else {
			err += dx
			y0 += sy
		}
	}
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func sign(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}

// drawChart draws the points (times[i], values[i]) as a braille line chart
// at most width columns wide (labels and title included) and height rows
// high over the time range [t0, t1], with the minimum and maximum on the y
// axis and t0 and t1 below. A NaN value breaks the line. The output depends
// only on its arguments.
func drawChart(w io.Writer, title string, times []time.Time, values []float64, t0, t1 time.Time, width, height int) {
	fmt.Fprintln(w, clipColumns(escapeText(title), width))
	lo, hi := finiteRange(values)
	if len(times) == 0 || math.IsInf(lo, 0) {
		fmt.Fprintln(w, "  (no values)")
		return
	}
	top, bottom := strconv.FormatFloat(hi, 'g', 6, 64), strconv.FormatFloat(lo, 'g', 6, 64)
	labelW := max(len(top), len(bottom))
	plotW := max(width-labelW-2, 1)
	c := newCanvas(plotW, max(height, 2))
	c.plot(times, values, t0, t1, lo, hi)

	var b strings.Builder
	for r, row := range c.cells {
		label, axis := c.axisLabel(r, top, bottom, hi == lo)
		fmt.Fprintf(&b, "%*s %c", labelW, label, axis)
		b.WriteString(strings.TrimRight(brailleText(row), " "))
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%*s └%s\n", labelW, "", strings.Repeat("─", plotW))
	b.WriteString(timeAxis(labelW, plotW, t0, t1))
	io.WriteString(w, b.String())
}

// finiteRange returns the least and the greatest of the finite values
// (+Inf and -Inf when there are none).
func finiteRange(values []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	return lo, hi
}

// plot draws the points (times[i], values[i]) on axes from t0 to t1 and
// from lo to hi: a line through consecutive points, which a NaN or an
// infinite value breaks.
func (c *canvas) plot(times []time.Time, values []float64, t0, t1 time.Time, lo, hi float64) {
	havePrev := false
	var px, py int
	for i, t := range times {
		v := values[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			havePrev = false
			continue
		}
		x, y := c.x(t, t0, t1), c.y(v, lo, hi)
		if havePrev {
			c.line(px, py, x, y)
		} else {
			c.set(x, y)
		}
		px, py, havePrev = x, y, true
	}
}

// x is the dot column of time t on an axis from t0 to t1 (the middle one
// when t1 is not after t0).
func (c *canvas) x(t, t0, t1 time.Time) int {
	span := t1.Sub(t0)
	if span <= 0 {
		return c.cols / 2
	}
	return min(max(int(math.Round(float64(t.Sub(t0))/float64(span)*float64(c.cols-1))), 0), c.cols-1)
}

// y is the dot row (from the bottom) of v on an axis from lo to hi (the
// middle one when they are equal).
func (c *canvas) y(v, lo, hi float64) int {
	// Halved so that hi-lo cannot overflow to +Inf (values near ±MaxFloat64).
	r := (v/2 - lo/2) / (hi/2 - lo/2)
	if hi == lo || math.IsNaN(r) || math.IsInf(r, 0) {
		return c.rows / 2
	}
	return min(max(int(math.Round(r*float64(c.rows-1))), 0), c.rows-1)
}

// axisLabel returns the label and the y axis character of text row r: the
// top value on the first row and the bottom one on the last, or, when
// flat (every value is the same), the value on the row of the line.
func (c *canvas) axisLabel(r int, top, bottom string, flat bool) (string, rune) {
	switch {
	case flat:
		if r == (c.rows-1-c.rows/2)/4 {
			return top, '┤'
		}
	case r == 0:
		return top, '┤'
	case r == len(c.cells)-1:
		return bottom, '┤'
	}
	return "", '│'
}

// brailleText is a row of braille cells as text, an empty cell as a space.
func brailleText(row []rune) string {
	line := make([]rune, len(row))
	for i, cell := range row {
		if cell == 0 {
			line[i] = ' '
		} else {
			line[i] = 0x2800 + cell
		}
	}
	return string(line)
}

// timeAxis is the line under a chart's x axis: the first and last time,
// as many of their digits as fit in plotW+1 columns (first the dates and
// times, then the times of day, then those without the zone, then the
// first alone), after labelW+1 blank columns.
func timeAxis(labelW, plotW int, t0, t1 time.Time) string {
	long, short := "2006-01-02 15:04:05", "15:04:05"
	rightLong := long
	if t0.Format("2006-01-02") == t1.Format("2006-01-02") {
		rightLong = short
	}
	for _, l := range [][3]string{{long, rightLong, " UTC"}, {short, short, " UTC"}, {short, short, ""}, {short, "", ""}} {
		left, right, zone := timeLabel(t0, l[0]), "", l[2]
		if l[1] != "" && t1.After(t0) {
			right = " " + timeLabel(t1, l[1])
		}
		if gap := plotW + 1 - len(left) - len(right) - len(zone); gap >= 0 {
			return fmt.Sprintf("%*s %s%s%s%s\n", labelW, "", left, strings.Repeat(" ", gap), right, zone)
		}
	}
	return ""
}

// clipColumns cuts s to at most width characters, ending it with "…" when
// it was longer.
func clipColumns(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:max(width-1, 0)]) + "…"
}

func timeLabel(t time.Time, layout string) string { return t.UTC().Format(layout) }
