package apptuit

import (
	"os"
	"strings"
	"testing"
)

// The README's quickstart is examples/quickstart/main.go, which CI builds
// and runs; this keeps the two from drifting apart.
func TestReadmeQuickstartIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	code, err := os.ReadFile("examples/quickstart/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```go\n"+string(code)+"```") {
		t.Error("README.md's quickstart differs from examples/quickstart/main.go")
	}
}

// The README names exactly one test command, and .ci/run runs it.
func TestReadmeTestCommandRunByCI(t *testing.T) {
	readme, _ := os.ReadFile("README.md")
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "go test -race -count=1 ./... ./bench/..."
	if n := strings.Count(string(readme), cmd); n < 1 {
		t.Fatalf("README.md does not give the test command %q", cmd)
	}
	if !strings.Contains(string(ci), "\n"+cmd+"\n") {
		t.Errorf(".ci/run does not run %q", cmd)
	}
}
