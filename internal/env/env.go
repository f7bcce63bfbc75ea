// Package env parses the configuration values apptuit-go reads from the
// environment, in the formats apptuit-py defined for them.
package env

import (
	"fmt"
	"os"
	"strings"
)

// Names of the variables holding global tags: the first set and non-empty
// one is read.
const (
	TagsVar   = "APPTUIT_TAGS"
	TagsPyVar = "APPTUIT_PY_TAGS"
)

// LookupTags reads the global tags of the environment: APPTUIT_TAGS, or when
// it is unset or empty APPTUIT_PY_TAGS, parsed by ParseTags. It returns nil
// and no error when neither is set. The client and the reporter both read
// their environment tags with it, so they cannot disagree.
func LookupTags() (map[string]string, error) {
	for _, name := range []string{TagsVar, TagsPyVar} {
		if v, ok := os.LookupEnv(name); ok && v != "" {
			return ParseTags(name, v)
		}
	}
	return nil, nil
}

// ParseTags parses global tags in apptuit-py's format "k1: v1, k2: v2":
// spaces around keys and values are optional, empty items are skipped, and
// leading or trailing commas are allowed. An item that is not exactly one
// key and one value separated by a single ':' is an error quoting the item;
// so is a key or value that is empty or quoted. varName names the variable
// in errors. An empty string gives an empty, non-nil map.
func ParseTags(varName, s string) (map[string]string, error) {
	tags := make(map[string]string)
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, ":")
		if !ok || strings.Contains(v, ":") {
			return nil, badTag(varName, item)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if k == "" || v == "" || strings.ContainsAny(k, `"'{}`) {
			return nil, badTag(varName, item)
		}
		tags[k] = v
	}
	return tags, nil
}

func badTag(varName, item string) error {
	return fmt.Errorf("%s: cannot parse tag %q: want comma-separated key: value pairs, e.g. \"env: prod, service: orders\"", varName, item)
}

// ParseBool parses a truth value the way Python's strtobool does:
// y, yes, t, true, on, 1 are true; n, no, f, false, off, 0 are false (any
// case, surrounding spaces ignored). Anything else is an error quoting the
// value.
func ParseBool(varName, s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes", "t", "true", "on", "1":
		return true, nil
	case "n", "no", "f", "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("%s: invalid truth value %q: want one of y, yes, t, true, on, 1, n, no, f, false, off, 0", varName, s)
}
