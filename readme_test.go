package apptuit

import (
	"os"
	"strings"
	"testing"
)

// The README's quickstarts are the example programs, which CI builds and
// runs; this keeps them from drifting apart.
func TestReadmeQuickstartsAreTheExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"examples/quickstart/main.go", "examples/reporter/main.go"} {
		code, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(readme), "```go\n"+string(code)+"```") {
			t.Errorf("README.md does not hold %s as it is", path)
		}
	}
}

// The README names exactly one test command, and .ci/run runs it.
func TestReadmeTestCommandRunByCI(t *testing.T) {
	readme, _ := os.ReadFile("README.md")
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	const cmd = "go test -race -count=1 $(go list -m -f '{{.Dir}}/...')" // every module of go.work
	if n := strings.Count(string(readme), cmd); n != 1 {
		t.Fatalf("README.md gives the test command %q %d times, want once", cmd, n)
	}
	if !strings.Contains(string(ci), "\n"+cmd+"\n") {
		t.Errorf(".ci/run does not run %q", cmd)
	}
}
