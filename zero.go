package apptuit

import "errors"

// ErrZeroClient is returned by the methods of a Client that New did not
// make: its zero value has no endpoint, batch size or HTTP client to use.
var ErrZeroClient = errors.New("apptuit: the Client was not made by apptuit.New, which every Client must come from")

// made returns ErrZeroClient for a Client New did not make (New always
// sets hc).
func (c *Client) made() error {
	if c == nil || c.hc == nil {
		return ErrZeroClient
	}
	return nil
}
