package promql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tNumber
	tDuration
	tString
	tLParen
	tRParen
	tLBrace
	tRBrace
	tLBracket
	tRBracket
	tComma
	tColon
	tAt
	tAssign // = (a matcher)
	tNeq    // !=
	tRe     // =~
	tNre    // !~
	tAdd
	tSub
	tMul
	tDiv
	tMod
	tPow
	tEql // ==
	tLss
	tGtr
	tLte
	tGte
)

var tokText = map[tokKind]string{
	tEOF: "end of input", tLParen: "(", tRParen: ")", tLBrace: "{", tRBrace: "}",
	tLBracket: "[", tRBracket: "]", tComma: ",", tColon: ":", tAt: "@",
	tAssign: "=", tNeq: "!=", tRe: "=~", tNre: "!~", tAdd: "+", tSub: "-", tMul: "*",
	tDiv: "/", tMod: "%", tPow: "^", tEql: "==", tLss: "<", tGtr: ">", tLte: "<=", tGte: ">=",
}

type token struct {
	kind tokKind
	pos  int    // byte offset
	text string // as written
	str  string // tString: the unquoted value
	num  float64
	dur  int64 // tDuration: milliseconds
}

func (t token) String() string {
	switch t.kind {
	case tIdent:
		return "identifier " + strconv.Quote(t.text)
	case tNumber:
		return "number " + strconv.Quote(t.text)
	case tDuration:
		return "duration " + strconv.Quote(t.text)
	case tString:
		return "string " + t.text
	case tEOF:
		return "end of input"
	}
	return strconv.Quote(tokText[t.kind])
}

// lex splits src into tokens, or returns the error at the first bad one.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
			i++
		}
		if i < len(src) && src[i] == '#' { // a comment runs to the end of the line
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		}
		if i >= len(src) {
			return append(toks, token{kind: tEOF, pos: i}), nil
		}
		c := src[i]
		start := i
		two := ""
		if i+1 < len(src) {
			two = src[i : i+2]
		}
		switch {
		case two == "!=" || two == "=~" || two == "!~" || two == "==" || two == "<=" || two == ">=":
			k := map[string]tokKind{"!=": tNeq, "=~": tRe, "!~": tNre, "==": tEql, "<=": tLte, ">=": tGte}[two]
			toks = append(toks, token{kind: k, pos: i, text: two})
			i += 2
			continue
		case strings.IndexByte("(){}[],:@=+-*/%^<>", c) >= 0:
			k := map[byte]tokKind{'(': tLParen, ')': tRParen, '{': tLBrace, '}': tRBrace, '[': tLBracket, ']': tRBracket,
				',': tComma, ':': tColon, '@': tAt, '=': tAssign, '+': tAdd, '-': tSub, '*': tMul, '/': tDiv,
				'%': tMod, '^': tPow, '<': tLss, '>': tGtr}[c]
			toks = append(toks, token{kind: k, pos: i, text: string(c)})
			i++
			continue
		case c == '"' || c == '\'' || c == '`':
			end, val, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tString, pos: start, text: src[start:end], str: val})
			i = end
			continue
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			tok, end, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
			i = end
			continue
		case isIdentStart(c):
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
			word := src[start:i]
			if lw := strings.ToLower(word); lw == "inf" || lw == "nan" {
				v, _ := strconv.ParseFloat(lw, 64)
				toks = append(toks, token{kind: tNumber, pos: start, text: word, num: v})
				continue
			}
			toks = append(toks, token{kind: tIdent, pos: start, text: word})
			continue
		}
		r, _ := utf8.DecodeRuneInString(src[i:])
		return nil, errAt(i, "unexpected character %q", r)
	}
}

func isDigit(c byte) bool      { return c >= '0' && c <= '9' }
func isIdentStart(c byte) bool { return c == '_' || c == ':' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isIdentChar(c byte) bool  { return isIdentStart(c) || isDigit(c) }
func isWordChar(c byte) bool   { return c != ':' && isIdentChar(c) }

// lexString reads the string literal at src[i], returning the offset past
// it and its value. Double and single quotes take Go's escapes; backquotes
// none.
func lexString(src string, i int) (int, string, error) {
	q := src[i]
	j := i + 1
	for j < len(src) && src[j] != q {
		if src[j] == '\\' && q != '`' {
			j++
		}
		if j < len(src) && src[j] == '\n' && q != '`' {
			return 0, "", errAt(i, "unterminated quoted string")
		}
		j++
	}
	if j >= len(src) {
		return 0, "", errAt(i, "unterminated quoted string")
	}
	raw := src[i : j+1]
	if q == '`' {
		return j + 1, raw[1 : len(raw)-1], nil
	}
	body := raw[1 : len(raw)-1]
	var sb strings.Builder
	for len(body) > 0 {
		r, _, tail, err := strconv.UnquoteChar(body, q)
		if err != nil {
			return 0, "", errAt(i, "invalid escape sequence in string %s", raw)
		}
		sb.WriteRune(r)
		body = tail
	}
	val := sb.String()
	if !utf8.ValidString(val) {
		return 0, "", errAt(i, "invalid UTF-8 in string %s", raw)
	}
	return j + 1, val, nil
}

// lexNumber reads a number (decimal, hexadecimal 0x…, with exponent) or a
// duration (1h30m, 500ms) at src[i].
func lexNumber(src string, i int) (token, int, error) {
	start := i
	if strings.HasPrefix(src[i:], "0x") || strings.HasPrefix(src[i:], "0X") {
		j := i + 2
		for j < len(src) && (isDigit(src[j]) || (src[j]|0x20 >= 'a' && src[j]|0x20 <= 'f')) {
			j++
		}
		n, err := strconv.ParseUint(src[i+2:j], 16, 64)
		if err != nil || (j < len(src) && isWordChar(src[j])) {
			return token{}, 0, errAt(start, "bad number %q", src[start:min(j+1, len(src))])
		}
		return token{kind: tNumber, pos: start, text: src[start:j], num: float64(n)}, j, nil
	}
	j := i
	for j < len(src) && isDigit(src[j]) {
		j++
	}
	// A duration: digits followed by a unit, repeated.
	if j < len(src) && j > i && strings.IndexByte("smhdwy", src[j]) >= 0 {
		return lexDuration(src, start)
	}
	if j < len(src) && src[j] == '.' {
		j++
		for j < len(src) && isDigit(src[j]) {
			j++
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && isDigit(src[k]) {
			for k < len(src) && isDigit(src[k]) {
				k++
			}
			j = k
		}
	}
	if j < len(src) && (isWordChar(src[j]) || src[j] == '.') {
		e := j
		for e < len(src) && (isWordChar(src[e]) || src[e] == '.') {
			e++
		}
		return token{}, 0, errAt(start, "bad number or duration syntax: %q", src[start:e])
	}
	v, err := strconv.ParseFloat(src[start:j], 64)
	if err != nil && !strings.Contains(err.Error(), "range") {
		return token{}, 0, errAt(start, "bad number %q", src[start:j])
	}
	return token{kind: tNumber, pos: start, text: src[start:j], num: v}, j, nil
}

var unitMs = map[string]int64{"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 7 * 86_400_000, "y": 365 * 86_400_000}

var unitOrder = []string{"y", "w", "d", "h", "m", "s", "ms"}

// lexDuration reads a duration like 1h30m: each unit at most once, from
// the largest down.
func lexDuration(src string, start int) (token, int, error) {
	j := start
	var total int64
	last := -1
	bad := func() (token, int, error) {
		e := j
		for e < len(src) && isWordChar(src[e]) {
			e++
		}
		return token{}, 0, errAt(start, "bad duration %q", src[start:e])
	}
	for j < len(src) && isDigit(src[j]) {
		k := j
		for k < len(src) && isDigit(src[k]) {
			k++
		}
		n, err := strconv.ParseInt(src[j:k], 10, 64)
		if err != nil {
			return bad()
		}
		u := ""
		if strings.HasPrefix(src[k:], "ms") {
			u = "ms"
		} else if k < len(src) && strings.IndexByte("smhdwy", src[k]) >= 0 {
			u = src[k : k+1]
		} else {
			return bad()
		}
		idx := 0
		for idx < len(unitOrder) && unitOrder[idx] != u {
			idx++
		}
		if idx <= last {
			return bad()
		}
		last = idx
		if n > (1<<62)/unitMs[u] || total > (1<<62)-n*unitMs[u] {
			return token{}, 0, errAt(start, "duration %q is too long", src[start:k+len(u)])
		}
		total += n * unitMs[u]
		j = k + len(u)
	}
	if j < len(src) && (isWordChar(src[j]) || src[j] == '.') {
		return bad()
	}
	return token{kind: tDuration, pos: start, text: src[start:j], dur: total}, j, nil
}

// ParseDuration parses a PromQL duration like 15s, 1h30m or 500ms (each
// unit at most once, largest first: y w d h m s ms) to milliseconds. It
// reports false for anything else. Its cost is linear in s.
func ParseDuration(s string) (int64, bool) {
	if s == "" || !isDigit(s[0]) {
		return 0, false
	}
	tok, end, err := lexDuration(s, 0)
	if err != nil || end != len(s) {
		return 0, false
	}
	return tok.dur, true
}

// Error is a parse error: the byte offset where it was found and what.
type Error struct {
	Offset int    // byte offset into the query
	Line   int    // 1-based line of Offset
	Col    int    // 1-based column of Offset, in characters
	Msg    string // e.g. `unsupported function "label_replace"`
}

// Error reads "<line>:<col>: parse error: <msg>", as Prometheus's.
func (e *Error) Error() string { return fmt.Sprintf("%d:%d: parse error: %s", e.Line, e.Col, e.Msg) }

// errAt makes an Error without its line and column, which Parse fills in.
func errAt(off int, format string, args ...any) *Error {
	return &Error{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func (e *Error) locate(src string) {
	if e.Offset > len(src) {
		e.Offset = len(src)
	}
	before := src[:e.Offset]
	e.Line = strings.Count(before, "\n") + 1
	e.Col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
}
