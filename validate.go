package apptuit

import "errors"

// MaxTags is the most tags a point may carry after global tags are merged:
// Apptuit's limit.
const MaxTags = 25

// checkName is CheckName with what s is (e.g. "metric name") in the
// message.
func checkName(what, s string) error {
	if err := CheckName(s); err != nil {
		return errors.New(err.(*NameError).describe(what))
	}
	return nil
}

// ValidateMetric reports whether a point with this metric name and tags
// passes the checks Send applies on c: the client's sanitizer is applied to
// the name and the tag keys, its global tags are merged under tags, and
// then the name and keys must follow Apptuit's rule, no tag value may be
// empty and the merged tags must number 1 to MaxTags. It returns nil or a
// *ValidationError whose Index and Point are -1 and whose Rule says what is
// wrong; it does not look at values or timestamps. A valid metric costs no
// allocation.
func (c *Client) ValidateMetric(metric string, tags map[string]string) error {
	if err := checkName("metric name", c.sanitizeName(metric)); err != nil {
		return &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	var buf [8 + MaxTags]kv
	merged, err := c.mergeTags(buf[:0], tags)
	if err == nil {
		err = checkTagCount(len(merged))
	}
	if err != nil {
		return &ValidationError{Index: -1, Point: -1, Metric: metric, Rule: err.Error()}
	}
	return nil
}

// ValidateMetric is (*Client).ValidateMetric for a client without a
// sanitizer or global tags: metric and the keys of tags must follow
// Apptuit's rule as given, no value may be empty, and there must be 1 to
// MaxTags tags.
func ValidateMetric(metric string, tags map[string]string) error {
	var c Client
	return c.ValidateMetric(metric, tags)
}
