package apptuit

import "strings"

// SanitizeApptuit replaces every character outside Apptuit's name rule
// (Unicode letters and digits, '.', '-', '_', '/') with '_' and collapses
// runs of '_' into one, exactly as apptuit-py's sanitize_name_apptuit
// (CleanName replaces one for one and keeps runs). A name that needs no
// change is returned as is, without allocating.
func SanitizeApptuit(name string) string {
	if CheckName(name) == nil && !strings.Contains(name, "__") {
		return name
	}
	return collapseUnderscores(CleanName(name), false)
}

// SanitizePrometheus makes name match Prometheus' [a-zA-Z_][a-zA-Z0-9_]*:
// every other character becomes '_', runs of '_' collapse into one, and a
// leading digit gets a '_' prefix, exactly as apptuit-py's
// sanitize_name_prometheus. A name that needs no change is returned as is,
// without allocating.
func SanitizePrometheus(name string) string {
	if name == "" {
		return name
	}
	digit := '0' <= name[0] && name[0] <= '9'
	if !digit && !strings.Contains(name, "__") && strings.IndexFunc(name, notPrometheus) < 0 {
		return name
	}
	var b strings.Builder
	b.Grow(len(name) + 1)
	for _, r := range name {
		if notPrometheus(r) {
			r = '_'
		}
		b.WriteRune(r)
	}
	return collapseUnderscores(b.String(), digit)
}

func notPrometheus(r rune) bool {
	return !(r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9'))
}

// collapseUnderscores replaces every run of '_' in s by one, after a '_'
// prefix when prefix is set.
func collapseUnderscores(s string, prefix bool) string {
	var b strings.Builder
	b.Grow(len(s) + 1)
	last := prefix
	if prefix {
		b.WriteByte('_')
	}
	for i := 0; i < len(s); i++ {
		if s[i] == '_' && last {
			continue
		}
		last = s[i] == '_'
		b.WriteByte(s[i])
	}
	return b.String()
}
