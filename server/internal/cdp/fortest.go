package cdp

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// EnvRequire names the environment variable that makes ForTest fail,
// instead of skip, when no browser is installed; CI (CI=true) does too.
const EnvRequire = "APPTUIT_TEST_REQUIRE_BROWSER"

// ForTest launches the browser for a test and closes it when the test
// ends. Without a browser it skips the test, or fails it under CI (the
// environment variable CI or EnvRequire set), where a browser test that
// did not run must not pass.
func ForTest(t testing.TB) *Browser {
	t.Helper()
	path, err := Find()
	if err != nil {
		if errors.Is(err, ErrNotFound) && os.Getenv("CI") == "" && os.Getenv(EnvRequire) == "" {
			t.Skipf("%v; the browser test is skipped (CI fails it)", err)
		}
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	b, err := Launch(ctx, path)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("closing the browser: %v", err)
		}
		cancel()
	})
	return b
}
