// Command chartbench measures the web page's chart (chart.js, SVG) against
// uPlot, the canvas chart of vmui and Prometheus's UI, in headless
// Chromium: the CPU time the browser's processes spend to draw N series of
// P points and to follow the mouse over them, and the wall time to the
// second animation frame. It is how the page's chart was chosen
// (bench/RESULTS.md, "The web page's chart"); it is not a test.
//
//	npm pack uplot@1.6.32 && tar xzf uplot-1.6.32.tgz
//	go run ./server/internal/webui/chartbench -uplot package/dist -p 1000
//
// Linux only (it reads the CPU time of the browser's processes in /proc).
package main

import (
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
	uplot := flag.String("uplot", "", "directory holding uPlot.iife.min.js (package/dist of the npm package)")
	n := flag.Int("n", 50, "series")
	p := flag.Int("p", 1000, "points per series")
	rounds := flag.Int("rounds", 5, "rounds, each drawing with both charts in turn")
	runs := flag.Int("runs", 20, "draws and mouse moves per chart per round")
	wrapper := flag.String("wrapper", "", "a chart.js that draws with uPlot (global UPlotChart), to measure too")
	flag.Parse()
	if err := run(*uplot, *wrapper, *n, *p, *rounds, *runs); err != nil {
		log.Fatal(err)
	}
}

func run(uplot, wrapper string, n, p, rounds, runs int) error {
	if _, err := os.Stat(filepath.Join(uplot, "uPlot.iife.min.js")); err != nil {
		return fmt.Errorf("-uplot: %w", err)
	}
	_, self, _, _ := runtime.Caller(0)
	assets := os.DirFS(filepath.Join(filepath.Dir(self), "..", "assets")) // the page's files, as in the repository
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui/", http.FileServerFS(assets)))
	mux.Handle("/uplot/", http.StripPrefix("/uplot/", http.FileServer(http.Dir(uplot))))
	mux.HandleFunc("/wrapper.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		if wrapper != "" {
			http.ServeFile(w, r, wrapper)
		}
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
		charts := []string{"svg", "uplot"}
		if wrapper != "" {
			charts = append(charts, "wrapped")
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
