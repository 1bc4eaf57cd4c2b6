// Command chart draws docs/performance.png from a bench results file:
// per payload size, for every (guest, shape, mode), redspin's end-to-end
// throughput next to the transport and engine limits, on a log scale.
//
//	go run ./bench/chart                         # newest bench/results/*.json
//	go run ./bench/chart -in bench/results/2026-11-25.json -out docs/performance.png
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// results is the part of the bench JSON the chart reads.
type results struct {
	Date      string `json:"date"`
	CPUs      int    `json:"cpus"`
	Runs      int    `json:"runs_per_figure"`
	Transport []struct {
		Payload  int     `json:"payload"`
		MsgsPerS summary `json:"msgs_per_s"`
	} `json:"transport"`
	Engine []struct {
		Guest, Shape, Mode, Variant string
		Payload                     int
		Reuse                       int
		PayloadKind                 string  `json:"payload_kind"`
		MsgsPerS                    summary `json:"msgs_per_s"`
		CPU                         summary `json:"cpu_us_per_msg"`
	} `json:"engine"`
	E2E []struct {
		Guest, Shape, Mode string
		Payload            int
		Reuse              int
		MsgsPerS           summary `json:"msgs_per_s"`
		CPU                summary `json:"cpu_us_per_msg"`
	} `json:"e2e"`
	Latency []struct {
		Guest, Shape, Mode, Method string
		Payload                    int
		RatePS                     float64 `json:"rate_per_s"`
		Samples                    int
		P50us                      float64 `json:"p50_us"`
		P99us                      float64 `json:"p99_us"`
		MaxUs                      float64 `json:"max_us"`
	} `json:"latency"`
	Startup []struct {
		Guest, Shape string
		ColdMs       summary `json:"cold_ms"`
		WarmMs       summary `json:"warm_ms"`
	} `json:"startup"`
	RSS []struct {
		Guest, Shape, Mode string
		IdleKiB            int64 `json:"idle_kib"`
		SmallKiB           int64 `json:"small_payload_kib"`
		PeakKiB            int64 `json:"peak_kib"`
	} `json:"rss"`
	Notes   []string `json:"notes"`
	Results []struct {
		Guest     string  `json:"guest"`
		Shape     string  `json:"shape"`
		Mode      string  `json:"mode"`
		Payload   int     `json:"payload"`
		Reuse     int     `json:"reuse"`
		MsgsPerS  float64 `json:"msgs_per_s"`
		Transport float64 `json:"transport_msgs_per_s"`
		Engine    float64 `json:"engine_msgs_per_s"`
	} `json:"results"`
}

var (
	white     = color.RGBA{255, 255, 255, 255}
	black     = color.RGBA{30, 30, 30, 255}
	grid      = color.RGBA{225, 225, 225, 255}
	grey      = color.RGBA{110, 110, 110, 255}
	barColors = []color.RGBA{
		{160, 160, 160, 255}, // transport limit
		{70, 120, 200, 255},  // engine limit
		{235, 130, 40, 255},  // redspin
	}
	barNames = []string{"transport limit (go-redis subscriber)", "engine limit (host.Handle loop)", "redspin up, end to end"}
)

func main() {
	in := flag.String("in", "", "bench results JSON (default: the newest bench/results/*.json)")
	out := flag.String("out", "docs/performance.png", "PNG to write")
	md := flag.Bool("md", false, "also print the results as Markdown tables (for docs/performance.md)")
	flag.Parse()
	if *in == "" {
		files, _ := filepath.Glob("bench/results/*.json")
		sort.Strings(files)
		if len(files) == 0 {
			fail(fmt.Errorf("no bench/results/*.json: run go run ./bench first"))
		}
		*in = files[len(files)-1]
	}
	b, err := os.ReadFile(*in)
	if err != nil {
		fail(err)
	}
	var r results
	if err := json.Unmarshal(b, &r); err != nil {
		fail(fmt.Errorf("%s: %w", *in, err))
	}
	img := render(&r)
	f, err := os.Create(*out)
	if err != nil {
		fail(err)
	}
	if err := png.Encode(f, img); err != nil {
		fail(err)
	}
	if err := f.Close(); err != nil {
		fail(err)
	}
	fmt.Fprintf(os.Stderr, "wrote %s from %s\n", *out, *in)
	if *md {
		markdown(os.Stdout, &r)
	}
}

// summary is a bench Summary.
type summary struct {
	Median, Min, Max float64
	Runs             []float64
}

func (s summary) String() string { return s.format("%.0f") }

func (s summary) format(f string) string {
	switch len(s.Runs) {
	case 0:
		return "–"
	case 1:
		return fmt.Sprintf(f, s.Median)
	}
	return fmt.Sprintf(f+" ("+f+"–"+f+")", s.Median, s.Min, s.Max)
}

func mib(k int64) string {
	if k == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f", float64(k)/1024)
}

// markdown prints the tables of docs/performance.md.
func markdown(w io.Writer, r *results) {
	fmt.Fprintln(w, "| guest | shape | mode | reuse | payload | redspin msgs/s | transport limit | engine limit | redspin / lower limit | CPU µs/msg redspin / engine | latency p50 / p99 / max µs |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, x := range r.Results {
		reuse := reuseOf(x.Reuse)
		var e2e, eng, tr, e2eCPU, engCPU summary
		for _, y := range r.E2E {
			if y.Guest == x.Guest && y.Shape == x.Shape && y.Mode == x.Mode && y.Payload == x.Payload && reuseOf(y.Reuse) == reuse {
				e2e, e2eCPU = y.MsgsPerS, y.CPU
			}
		}
		for _, y := range r.Engine {
			if y.Guest == x.Guest && y.Shape == x.Shape && y.Mode == x.Mode && y.Payload == x.Payload && reuseOf(y.Reuse) == reuse && y.Variant == "default" && y.PayloadKind != "errsuccess" {
				eng, engCPU = y.MsgsPerS, y.CPU
			}
		}
		for _, y := range r.Transport {
			if y.Payload == x.Payload {
				tr = y.MsgsPerS
			}
		}
		ratio := "–"
		lim := x.Transport
		if x.Engine > 0 && (lim == 0 || x.Engine < lim) {
			lim = x.Engine
		}
		if lim > 0 && x.MsgsPerS > 0 {
			ratio = fmt.Sprintf("%.0f %%", 100*x.MsgsPerS/lim)
		}
		lat := "–"
		for _, l := range r.Latency {
			if l.Guest == x.Guest && l.Shape == x.Shape && l.Mode == x.Mode && l.Payload == x.Payload && reuse == 1 {
				lat = fmt.Sprintf("%.0f / %.0f / %.0f", l.P50us, l.P99us, l.MaxUs)
				if l.Method != "stdout-line" {
					lat += " (" + l.Method + ")"
				}
			}
		}
		cpu := "–"
		if len(e2eCPU.Runs) > 0 && len(engCPU.Runs) > 0 {
			cpu = fmt.Sprintf("%.0f / %.0f", e2eCPU.Median, engCPU.Median)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |\n", x.Guest, x.Shape, x.Mode, reuse, sizeName(x.Payload), e2e, tr, eng, ratio, cpu, lat)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| guest | shape | mode | payload | variant | engine msgs/s | CPU µs/msg | default msgs/s | default CPU µs/msg |")
	fmt.Fprintln(w, "|---|---|---|---:|---|---:|---:|---:|---:|")
	for _, e := range r.Engine {
		if e.Variant == "default" {
			continue
		}
		for _, d := range r.Engine {
			if d.Variant == "default" && d.Guest == e.Guest && d.Shape == e.Shape && reuseOf(d.Reuse) == reuseOf(e.Reuse) && d.Mode == e.Mode && d.Payload == e.Payload && d.PayloadKind == e.PayloadKind {
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", e.Guest, e.Shape, e.Mode, sizeName(e.Payload), e.Variant,
					e.MsgsPerS, e.CPU.format("%.0f"), d.MsgsPerS, d.CPU.format("%.0f"))
			}
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| guest | shape | startup, cold cache ms | startup, warm cache ms | RSS idle MiB | RSS after 64 B runs MiB | RSS peak MiB |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|")
	for _, s := range r.Startup {
		var idle, small, peak []string
		for _, x := range r.RSS {
			if x.Guest == s.Guest && x.Shape == s.Shape {
				idle, small, peak = append(idle, mib(x.IdleKiB)), append(small, mib(x.SmallKiB)), append(peak, mib(x.PeakKiB))
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", s.Guest, s.Shape, s.ColdMs, s.WarmMs,
			strings.Join(idle, " / "), strings.Join(small, " / "), strings.Join(peak, " / "))
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "chart:", err)
	os.Exit(1)
}

const (
	barW    = 13
	groupW  = 3*barW + 22
	left    = 70
	right   = 20
	panelH  = 300
	topPad  = 74
	labelH  = 56
	panelGp = 40
)

func render(r *results) *image.RGBA {
	var payloads []int
	seen := map[int]bool{}
	type key struct {
		guest, shape, mode string
		reuse              int
	}
	var groups []key
	seenG := map[key]bool{}
	lo, hi := math.Inf(1), 0.0
	for _, x := range r.Results {
		if !seen[x.Payload] {
			seen[x.Payload] = true
			payloads = append(payloads, x.Payload)
		}
		k := key{x.Guest, x.Shape, x.Mode, reuseOf(x.Reuse)}
		if !seenG[k] {
			seenG[k] = true
			groups = append(groups, k)
		}
		for _, v := range []float64{x.Transport, x.Engine, x.MsgsPerS} {
			if v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	sort.Ints(payloads)
	if hi == 0 {
		lo, hi = 1, 10
	}
	dmin := math.Floor(math.Log10(lo))
	dmax := math.Ceil(math.Log10(hi))
	if dmax == dmin {
		dmax++
	}

	w := left + right + max(len(groups), 4)*groupW
	h := topPad + len(payloads)*(panelH+labelH+panelGp)
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)

	drawText(img, left, 8, 2, "redspin throughput against its limits", black)
	drawText(img, left, 28, 1, fmt.Sprintf("msgs/s, log scale; median of %d runs; %s, %d cpus; %% = redspin / lower limit", r.Runs, dateOnly(r.Date), r.CPUs), grey)
	lx := left
	for i, name := range barNames {
		fillRect(img, lx, 44, 12, 12, barColors[i])
		drawText(img, lx+18, 47, 1, name, black)
		lx += 18 + textWidth(name, 1) + 30
	}

	for pi, size := range payloads {
		y0 := topPad + pi*(panelH+labelH+panelGp) + 20
		yOf := func(v float64) int {
			f := (math.Log10(v) - dmin) / (dmax - dmin)
			return y0 + panelH - int(f*float64(panelH))
		}
		drawText(img, left, y0-18, 2, "payload "+sizeName(size), black)
		for d := dmin; d <= dmax; d++ {
			y := yOf(math.Pow(10, d))
			fillRect(img, left, y, w-left-right, 1, grid)
			label := decade(d)
			drawText(img, left-8-textWidth(label, 1), y-3, 1, label, grey)
		}
		fillRect(img, left, y0, 1, panelH, grey)
		fillRect(img, left, y0+panelH, w-left-right, 1, grey)
		for gi, g := range groups {
			gx := left + 10 + gi*groupW
			var vals [3]float64
			for _, x := range r.Results {
				if x.Guest == g.guest && x.Shape == g.shape && x.Mode == g.mode && reuseOf(x.Reuse) == g.reuse && x.Payload == size {
					vals = [3]float64{x.Transport, x.Engine, x.MsgsPerS}
				}
			}
			for bi, v := range vals {
				bx := gx + bi*barW
				if v <= 0 {
					drawText(img, bx+1, y0+panelH-10, 1, "-", grey)
					continue
				}
				top := yOf(v)
				fillRect(img, bx, top, barW-2, y0+panelH-top, barColors[bi])
			}
			if vals[2] > 0 {
				lim := vals[0]
				if vals[1] > 0 && (lim == 0 || vals[1] < lim) {
					lim = vals[1]
				}
				if lim > 0 {
					drawText(img, gx, y0+panelH+30, 1, fmt.Sprintf("%.0f%%", 100*vals[2]/lim), barColors[2])
				}
			}
			shape := "comp"
			if g.shape == "module" {
				shape = "mod"
			}
			mode := "ordered"
			if g.mode == "concurrent" {
				mode = "conc."
			}
			drawText(img, gx, y0+panelH+6, 1, g.guest+"/"+shape, black)
			if g.reuse > 1 {
				mode += fmt.Sprintf(" x%d", g.reuse)
			}
			drawText(img, gx, y0+panelH+18, 1, mode, grey)
		}
	}
	return img
}

func fillRect(img *image.RGBA, x, y, w, h int, c color.Color) {
	draw.Draw(img, image.Rect(x, y, x+w, y+h), &image.Uniform{c}, image.Point{}, draw.Src)
}

func decade(d float64) string {
	v := math.Pow(10, d)
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.0fm", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.0fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func sizeName(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func dateOnly(s string) string {
	if len(s) >= 10 {
		return s[:10]
	}
	return s
}

// reuseOf is a result's instance reuse count: results files written before
// the reuse column have none (0), which means a fresh instance per message.
func reuseOf(n int) int {
	if n < 1 {
		return 1
	}
	return n
}
