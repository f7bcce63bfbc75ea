package apptuit

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SanitizeApptuit replaces every character outside Apptuit's name rule
// (Unicode letters and digits, '.', '-', '_', '/') with '_' and collapses
// runs of '_' into one, exactly as apptuit-py's sanitize_name_apptuit. A
// name that needs no change is returned as is, without allocating.
func SanitizeApptuit(name string) string {
	return sanitize(name, apptuitKeep, false)
}

// SanitizePrometheus makes name match Prometheus' [a-zA-Z_][a-zA-Z0-9_]*:
// every other character becomes '_', runs of '_' collapse into one, and a
// leading digit gets a '_' prefix, exactly as apptuit-py's
// sanitize_name_prometheus. A name that needs no change is returned as is,
// without allocating.
func SanitizePrometheus(name string) string {
	return sanitize(name, prometheusKeep, true)
}

func apptuitKeep(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiNameChar(r)
	}
	return r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsNumber(r))
}

func prometheusKeep(r rune) bool {
	return r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
}

func sanitize(name string, keep func(rune) bool, digitPrefix bool) string {
	if name == "" {
		return name
	}
	needsPrefix := digitPrefix && '0' <= name[0] && name[0] <= '9'
	if !needsPrefix && clean(name, keep) {
		return name
	}
	var b strings.Builder
	b.Grow(len(name) + 1)
	if needsPrefix {
		b.WriteByte('_')
	}
	lastUnderscore := needsPrefix
	for _, r := range name {
		if !keep(r) {
			r = '_'
		}
		if r == '_' {
			if lastUnderscore {
				continue
			}
			lastUnderscore = true
		} else {
			lastUnderscore = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clean reports whether name has only kept characters and no "__".
func clean(name string, keep func(rune) bool) bool {
	prev := rune(0)
	for _, r := range name {
		if !keep(r) || (r == '_' && prev == '_') {
			return false
		}
		prev = r
	}
	return true
}
