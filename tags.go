package apptuit

import (
	"cmp"
	"fmt"
	"slices"
)

// kv is one tag.
type kv struct{ k, v string }

func cmpKV(a, b kv) int { return cmp.Compare(a.k, b.k) }

func (c *Client) sanitizeName(s string) string {
	if c.cfg.sanitizer != nil {
		return c.cfg.sanitizer(s)
	}
	return s
}

// mergeTags overwrites dst with the client's global tags overlaid by tags
// (tags win), keys sanitized and validated, sorted by key. It allocates only
// when dst lacks capacity.
func (c *Client) mergeTags(dst []kv, tags map[string]string) ([]kv, error) {
	dst = dst[:0]
	for k, v := range tags {
		sk := c.sanitizeName(k)
		if err := checkName("tag key", sk); err != nil {
			return dst, err
		}
		if v == "" {
			return dst, fmt.Errorf("tag %q has an empty value", k)
		}
		dst = append(dst, kv{sk, v})
	}
	slices.SortFunc(dst, cmpKV)
	for i := 1; i < len(dst); i++ {
		if dst[i].k == dst[i-1].k {
			return dst, fmt.Errorf("two tag keys sanitize to %q", dst[i].k)
		}
	}
	n := len(dst)
	for _, g := range c.globalKV {
		if _, found := slices.BinarySearchFunc(dst[:n], g, cmpKV); !found {
			dst = append(dst, g)
		}
	}
	if len(dst) > n && n > 0 {
		slices.SortFunc(dst, cmpKV)
	}
	return dst, nil
}
