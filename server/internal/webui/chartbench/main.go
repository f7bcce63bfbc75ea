// Command chartbench measures the web page's chart (chart.js over uPlot)
// against uPlot alone and against the page's former SVG chart, in headless
// Chromium: the CPU time the browser's processes spend to draw N series of
// P points and to follow the mouse over them, and the wall time to the
// second animation frame. It is how the page's chart was chosen
// (bench/RESULTS.md, "The web page's chart"); it is not a test.
//
//	git show 2365e43:server/internal/webui/assets/chart.js >/tmp/svgchart.js
//	git show 2365e43:server/internal/webui/assets/app.css >/tmp/svgchart.css
//	go run ./server/internal/webui/chartbench -svg /tmp/svgchart.js -svgcss /tmp/svgchart.css -p 1000
//
// Linux only (it reads the CPU time of the browser's processes in /proc).
package main

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/chromedp/chromedp"
)

//go:embed bench.html bench.js
var page embed.FS

func main() {
	svg := flag.String("svg", "", "the SVG chart.js to measure too (its global ApptuitChart is renamed SVGChart)")
	svgCSS := flag.String("svgcss", "", "the app.css of the SVG chart (its rules for the SVG)")
	n := flag.Int("n", 50, "series")
	p := flag.Int("p", 1000, "points per series")
	rounds := flag.Int("rounds", 5, "rounds, each drawing with both charts in turn")
	runs := flag.Int("runs", 20, "draws and mouse moves per chart per round")
	flag.Parse()
	if err := run(*svg, *svgCSS, *n, *p, *rounds, *runs); err != nil {
		log.Fatal(err)
	}
}

func run(svg, svgCSS string, n, p, rounds, runs int) error {
	var svgJS, css []byte
	if svg != "" {
		b, err := os.ReadFile(svg)
		if err != nil {
			return fmt.Errorf("-svg: %w", err)
		}
		svgJS = bytes.ReplaceAll(b, []byte("global.ApptuitChart = "), []byte("global.SVGChart = "))
		if css, err = os.ReadFile(svgCSS); err != nil {
			return fmt.Errorf("-svgcss (needed with -svg): %w", err)
		}
	}
	_, self, _, _ := runtime.Caller(0)
	assets := os.DirFS(filepath.Join(filepath.Dir(self), "..", "assets")) // the page's files, as in the repository
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui/", http.FileServerFS(assets)))
	mux.HandleFunc("/svg.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		w.Write(svgJS)
	})
	mux.HandleFunc("/svg.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Write(css)
	})
	mux.Handle("/", http.FileServerFS(page))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(l, mux)

	dir, err := os.MkdirTemp("", "chartbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(dir),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-component-update", true))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	url := fmt.Sprintf("http://%s/bench.html?n=%d&p=%d", l.Addr(), n, p)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 1000), chromedp.Navigate(url)); err != nil {
		return err
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.benchReady === true`)); err != nil {
		return err
	}
	fmt.Printf("%d series × %d points, %d draws and %d mouse moves per chart and round; ms per draw + mouse move\n", n, p, runs, runs)
	fmt.Printf("%-5s %-6s %12s %12s %12s %12s %12s\n", "round", "chart", "CPU", "draw wall", "draw p90", "move wall", "idle frames")
	for r := 0; r < rounds; r++ {
		charts := []string{"page", "uplot"}
		if svg != "" {
			charts = append(charts, "svg")
		}
		if r%2 == 1 {
			slices.Reverse(charts)
		}
		for _, which := range charts {
			c0, err := treeCPU(dir)
			if err != nil {
				return err
			}
			res, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](fmt.Sprintf("bench(%q, %d)", which, runs), chromedp.EvalAwaitPromise))
			if err != nil {
				return err
			}
			c1, _ := treeCPU(dir)
			fmt.Printf("%-5d %-6s %12.0f %12.1f %12.1f %12.1f %12.1f\n", r, which, (c1-c0)/float64(runs), res["render"], res["render90"], res["hover"], res["idle"])
		}
	}
	return nil
}

// treeCPU returns the CPU time, in milliseconds, of the browser started
// with marker in its command line and of all its descendants.
func treeCPU(marker string) (float64, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	parent := map[int]int{}
	cpu := map[int]float64{}
	root := -1
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		ppid, _ := strconv.Atoi(f[1])
		ut, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		parent[pid] = ppid
		cpu[pid] = (ut + st) * 1000 / 100 // clock ticks of 10 ms
		if c, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && strings.Contains(string(c), "--user-data-dir="+marker) {
			if root == -1 || pid < root {
				root = pid
			}
		}
	}
	if root == -1 {
		return 0, errors.New("the browser's process is not found")
	}
	total := 0.0
	for pid, c := range cpu {
		for q := pid; q > 1; q = parent[q] {
			if q == root {
				total += c
				break
			}
		}
	}
	return total, nil
}
