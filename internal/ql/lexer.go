// Package ql parses and evaluates the subset of the Apptuit query language
// that package apptuittest serves on GET /api/query.
//
// It is pure: no HTTP, no clock. Parse turns a query text into a checked
// Program (every error carries a line and column); Eval runs a Program over a
// Store for a time range and returns one Output per output id.
package ql

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Pos is a position in a query text: byte offset, 1-based line and 1-based
// column counted in characters (runes).
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// Error is a parse or check error at a position in the query text.
type Error struct {
	Pos Pos
	Msg string
}

// Error formats the error as "parse error at line L, column C: msg".
func (e *Error) Error() string {
	return fmt.Sprintf("parse error at line %d, column %d: %s", e.Pos.Line, e.Pos.Col, e.Msg)
}

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tNumber
	tLParen
	tRParen
	tLBrace
	tRBrace
	tComma
	tColon
	tDot
	tAssign
	tSemi
	tNewline
	tError // where the lexer failed: the parse stops there
)

func (k tokKind) String() string {
	switch k {
	case tEOF:
		return "end of query"
	case tIdent:
		return "name"
	case tString:
		return "string"
	case tNumber:
		return "number"
	case tLParen:
		return "'('"
	case tRParen:
		return "')'"
	case tLBrace:
		return "'{'"
	case tRBrace:
		return "'}'"
	case tComma:
		return "','"
	case tColon:
		return "':'"
	case tDot:
		return "'.'"
	case tAssign:
		return "'='"
	case tSemi:
		return "';'"
	case tNewline:
		return "newline"
	}
	return "token"
}

type token struct {
	kind tokKind
	pos  Pos
	text string // identifier name, unquoted string, number text
}

func (t token) describe() string {
	switch t.kind {
	case tIdent:
		return fmt.Sprintf("name %q", t.text)
	case tString:
		return fmt.Sprintf("string %q", t.text)
	case tNumber:
		return "number " + t.text
	}
	return t.kind.String()
}

// lexer splits a query into tokens. A newline is a statement separator only
// outside parentheses and braces; inside them it is whitespace. '#' starts a
// comment that runs to the end of the line.
type lexer struct {
	src   string
	off   int
	line  int
	col   int
	depth int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Col: l.col} }

func (l *lexer) peekRune() (rune, int) {
	if l.off >= len(l.src) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(l.src[l.off:])
}

func (l *lexer) advance() rune {
	r, n := l.peekRune()
	if n == 0 {
		return -1
	}
	l.off += n
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

func (l *lexer) errf(p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...)}
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool  { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
func isDigit(r rune) bool      { return r >= '0' && r <= '9' }

// next returns the next token.
func (l *lexer) next() (token, *Error) {
	if nl, ok := l.skipBlank(); ok {
		return nl, nil
	}
	p := l.pos()
	r, _ := l.peekRune()
	switch {
	case r == -1:
		return token{kind: tEOF, pos: p}, nil
	case r == '\'' || r == '"':
		return l.str(p, r)
	case r == '-' || r == '+' || isDigit(r) || r == '.' && l.digitAt(l.off+1):
		// ".5" is a number; a '.' before anything else is a method call's.
		return l.number(p)
	case isIdentStart(r):
		start := l.off
		l.skipWhile(isIdentPart)
		return token{kind: tIdent, pos: p, text: l.src[start:l.off]}, nil
	}
	if k := punctuation(r); k != tError {
		l.advance()
		l.nest(k)
		return token{kind: k, pos: p}, nil
	}
	if r == utf8.RuneError {
		return token{}, l.errf(p, "invalid UTF-8")
	}
	return token{}, l.errf(p, "unexpected character %q", r)
}

// skipBlank skips white space, comments and the newlines inside
// parentheses and braces. A newline outside them separates statements: it
// returns it as a token.
func (l *lexer) skipBlank() (token, bool) {
	for {
		r, _ := l.peekRune()
		switch {
		case r == '\n' && l.depth == 0:
			p := l.pos()
			l.advance()
			return token{kind: tNewline, pos: p}, true
		case r == '#':
			l.skipWhile(func(r rune) bool { return r != '\n' })
		case strings.ContainsRune(" \t\r\n\f\v", r):
			l.advance()
		default:
			return token{}, false
		}
	}
}

// punctuation returns the kind of the one-character token r, or tError.
func punctuation(r rune) tokKind {
	switch r {
	case '(':
		return tLParen
	case ')':
		return tRParen
	case '{':
		return tLBrace
	case '}':
		return tRBrace
	case ',':
		return tComma
	case ':':
		return tColon
	case '.':
		return tDot
	case '=':
		return tAssign
	case ';':
		return tSemi
	}
	return tError
}

// nest keeps the depth of parentheses and braces (where a newline is
// white space) after the token k.
func (l *lexer) nest(k tokKind) {
	switch k {
	case tLParen, tLBrace:
		l.depth++
	case tRParen, tRBrace:
		if l.depth > 0 {
			l.depth--
		}
	}
}

// digitAt reports whether the byte at off is a decimal digit.
func (l *lexer) digitAt(off int) bool {
	return off < len(l.src) && isDigit(rune(l.src[off]))
}

func (l *lexer) str(p Pos, quote rune) (token, *Error) {
	l.advance()
	var b strings.Builder
	for {
		r, _ := l.peekRune()
		switch r {
		case -1, '\n':
			return token{}, l.errf(p, "unterminated string")
		case quote:
			l.advance()
			return token{kind: tString, pos: p, text: b.String()}, nil
		case '\\':
			ep := l.pos()
			l.advance()
			e := l.advance()
			switch e {
			case '\\', '\'', '"':
				b.WriteRune(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case -1:
				return token{}, l.errf(p, "unterminated string")
			default:
				return token{}, l.errf(ep, "unknown escape \\%c in string", e)
			}
		default:
			l.advance()
			b.WriteRune(r)
		}
	}
}

// number lexes [+-]? digits [. digits] [eE [+-] digits], or [+-]? . digits ...
func (l *lexer) number(p Pos) (token, *Error) {
	start := l.off
	l.skipSign()
	digits := l.skipWhile(isDigit)
	if r, _ := l.peekRune(); r == '.' && l.digitAt(l.off+1) {
		l.advance()
		digits += l.skipWhile(isDigit)
	}
	if digits == 0 {
		return token{}, l.errf(p, "malformed number")
	}
	if r, _ := l.peekRune(); r == 'e' || r == 'E' {
		l.advance()
		l.skipSign()
		if l.skipWhile(isDigit) == 0 {
			return token{}, l.errf(p, "malformed number")
		}
	}
	if r, _ := l.peekRune(); r != -1 && isIdentPart(r) {
		return token{}, l.errf(p, "malformed number")
	}
	return token{kind: tNumber, pos: p, text: l.src[start:l.off]}, nil
}

// skipSign advances over a '+' or a '-'.
func (l *lexer) skipSign() {
	if r, _ := l.peekRune(); r == '-' || r == '+' {
		l.advance()
	}
}

// skipWhile advances over the runes for which ok holds, up to the end, and
// returns how many.
func (l *lexer) skipWhile(ok func(rune) bool) int {
	n := 0
	for r, _ := l.peekRune(); r != -1 && ok(r); r, _ = l.peekRune() {
		l.advance()
		n++
	}
	return n
}
