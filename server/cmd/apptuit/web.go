package main

import (
	"github.com/apptuit-go/apptuit/apptuittest"
	"github.com/apptuit-go/apptuit/internal/webui"
)

// webOption makes an apptuittest server serve the web page at "/" (its
// files under /ui/), next to the API. The files need no token; the API
// calls the page makes do.
func webOption() apptuittest.Option {
	return apptuittest.WithHandler(webui.Handles, webui.Handler())
}
