package main

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDemo(t *testing.T) {
	cleanEnv(t)
	began := time.Now()
	code, out, errOut := runCmd(t, "", "demo", "--duration", "2s")
	t.Logf("demo took %s:\n%s", time.Since(began), out)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, re := range []string{
		`embedded Apptuit API listening on http://127\.0\.0\.1:\d+\n`,
		`\[ *\d+s\] orders \d+ \(NYC \d+, SF \d+, LDN \d+\)  queue \d+  reports \d+, points stored \d+\n`,
		`stopped after 2\.\ds; final report sent: `,
		`the server holds \d+ points of \d+ metrics, among them order_count\.count, order\.processed\.1m_rate, order\.processing\.time\.avg, `,
		`# orders\ntime +order_count\.count\{service:orders\}\n(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d+\n){2,}\n`,
		`# latency_ms\ntime +order\.processing\.time\.avg\{service:orders\}\n(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +[\d.]+\n){2,}\n`,
		`# queue\ntime +order\.queue\.size\.value\{service:orders\}\n`,
		`# orders_per_s\norder_count\.count\{service:orders\}\n`,
		`\n *[\d.]+ ┤[⠀-⣿ ]+\n`,
		`demo done in \d+\.\ds\n$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("output lacks %s", re)
		}
	}
	if strings.Contains(out, "no values") {
		t.Error("a chart has no values")
	}
}
