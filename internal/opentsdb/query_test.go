package opentsdb

import (
	"fmt"
	"testing"
)

func TestAppendFloat(t *testing.T) {
	tests := map[float64]string{
		0: "0.0", 1: "1.0", -1: "-1.0", 23050: "23050.0", 0.5: "0.5", 1e-7: "1e-7", 0.3333333333333333: "0.3333333333333333",
		1e20: "100000000000000000000.0", 1e21: "1e+21", 1.5e-300: "1.5e-300", -2.5e22: "-2.5e+22",
	}
	for v, want := range tests {
		if got := string(appendFloat(nil, v)); got != want {
			t.Errorf("appendFloat(%v) = %s, want %s", v, got, want)
		}
	}
	for _, s := range []string{"NaN", "+Inf", "-Inf"} {
		var v float64
		fmt.Sscan(s, &v)
		if got := string(appendFloat(nil, v)); got != "null" {
			t.Errorf("appendFloat(%s) = %s", s, got)
		}
	}
}
