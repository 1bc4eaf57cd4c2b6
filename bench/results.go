package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Results is everything one run measured; it is written as JSON.
type Results struct {
	Date         string `json:"date"`
	GoVersion    string `json:"go_version"`
	GOOS         string `json:"goos"`
	GOARCH       string `json:"goarch"`
	CPUs         int    `json:"cpus"`
	CPU          string `json:"cpu"`
	RedisVersion string `json:"redis_version"`
	Runs         int    `json:"runs_per_figure"`
	Quick        bool   `json:"quick"`
	Elapsed      string `json:"elapsed"`
	// LoadAvg and LoadAvgEnd are /proc/loadavg at the start and the end.
	LoadAvg    string            `json:"loadavg"`
	LoadAvgEnd string            `json:"loadavg_end"`
	Env        map[string]string `json:"env"`

	Transport []TransportResult `json:"transport"`
	Engine    []EngineResult    `json:"engine"`
	E2E       []E2EResult       `json:"e2e"`
	Latency   []LatencyEntry    `json:"latency"`
	Startup   []StartupResult   `json:"startup"`
	RSS       []RSSResult       `json:"rss"`
	Results   []ResultLine      `json:"results"`
	Notes     []string          `json:"notes"`
}

// TransportResult is the transport limit for one payload size.
type TransportResult struct {
	Payload  int     `json:"payload"`
	N        int     `json:"n"`
	MsgsPerS Summary `json:"msgs_per_s"`
}

// EngineResult is the engine limit for one guest, shape, mode, payload and
// host variant.
type EngineResult struct {
	Guest       string `json:"guest"`
	Shape       string `json:"shape"`
	Mode        string `json:"mode"`
	Workers     int    `json:"workers"`
	Payload     int    `json:"payload"`
	PayloadKind string `json:"payload_kind"` // plain, or errsuccess (prints nothing)
	Variant     string `json:"variant"`
	// Reuse is the instance reuse count (1 = a fresh instance per message).
	Reuse             int     `json:"reuse"`
	N                 int     `json:"n"`
	MsgsPerS          Summary `json:"msgs_per_s"`
	UsPerMsgPerWorker float64 `json:"us_per_msg_per_worker"`
	// CPUUsPerMsg is process CPU time (user+system, all threads) per
	// message: robust against other load on the machine.
	CPUUsPerMsg Summary `json:"cpu_us_per_msg"`
}

// E2EResult is redspin's end-to-end throughput.
type E2EResult struct {
	Guest    string  `json:"guest"`
	Shape    string  `json:"shape"`
	Mode     string  `json:"mode"`
	Reuse    int     `json:"reuse"`
	Payload  int     `json:"payload"`
	N        int     `json:"n"`
	MsgsPerS Summary `json:"msgs_per_s"`
	// CPUUsPerMsg is redspin's process CPU time (user+system, all threads,
	// 10 ms resolution) per message over a run, serving the benchmark's
	// /metrics scrapes included: set against the engine limit's CPU per
	// message, it splits a gap into extra work and waiting.
	CPUUsPerMsg Summary `json:"cpu_us_per_msg"`
	Failed      int     `json:"failed"`
	Dropped     int     `json:"dropped"`
}

// LatencyEntry is one latency measurement.
type LatencyEntry struct {
	Guest   string `json:"guest"`
	Shape   string `json:"shape"`
	Mode    string `json:"mode"`
	Reuse   int    `json:"reuse"`
	Payload int    `json:"payload"`
	LatencyResult
}

// StartupResult is `redspin up` → "Active Channels" in milliseconds.
type StartupResult struct {
	Guest  string  `json:"guest"`
	Shape  string  `json:"shape"`
	ColdMs Summary `json:"cold_ms"`
	WarmMs Summary `json:"warm_ms"`
}

// RSSResult is redspin's peak RSS (VmHWM) in KiB: after startup, after the
// small-payload runs, and at the end (the large-payload runs queue up to
// N × 64 KiB of messages, which the peak includes).
type RSSResult struct {
	Guest    string `json:"guest"`
	Shape    string `json:"shape"`
	Mode     string `json:"mode"`
	Reuse    int    `json:"reuse"`
	IdleKiB  int64  `json:"idle_kib"`
	SmallKiB int64  `json:"small_payload_kib"`
	PeakKiB  int64  `json:"peak_kib"`
}

// ResultLine is one RESULT line; zero values print as NA.
type ResultLine struct {
	Guest     string  `json:"guest"`
	Shape     string  `json:"shape"`
	Mode      string  `json:"mode"`
	Reuse     int     `json:"reuse"`
	Payload   int     `json:"payload"`
	MsgsPerS  float64 `json:"msgs_per_s"`
	Transport float64 `json:"transport_msgs_per_s"`
	Engine    float64 `json:"engine_msgs_per_s"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
}

func (r *Results) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.Notes = append(r.Notes, msg)
	logf("%s", msg)
}

func (r *Results) transportRate(size int) float64 {
	for _, t := range r.Transport {
		if t.Payload == size {
			return t.MsgsPerS.Median
		}
	}
	return 0
}

// engineRate is the engine limit for mode (a stream mode's is its pub/sub
// twin's, see engineMode).
func (r *Results) engineRate(g guestFile, mode string, size int) float64 {
	mode = engineMode(mode)
	for _, e := range r.Engine {
		if e.Guest == g.Guest && e.Shape == g.Shape && e.Reuse == g.Reuse && e.Mode == mode && e.Payload == size && e.Variant == "default" && e.PayloadKind == "plain" {
			return e.MsgsPerS.Median
		}
	}
	return 0
}

func (r *Results) e2eRate(g guestFile, mode string, size int) float64 {
	for _, e := range r.E2E {
		if e.Guest == g.Guest && e.Shape == g.Shape && e.Reuse == g.Reuse && e.Mode == mode && e.Payload == size {
			return e.MsgsPerS.Median
		}
	}
	return 0
}

// limitFor is the lower of the transport and engine limits (0 = unknown).
func (r *Results) limitFor(g guestFile, mode string, size int) float64 {
	t, e := r.transportRate(size), r.engineRate(g, mode, size)
	switch {
	case t == 0:
		return e
	case e == 0:
		return t
	}
	return min(t, e)
}

func (r *Results) latency(g guestFile, mode string, size int) (LatencyResult, bool) {
	for _, l := range r.Latency {
		if l.Guest == g.Guest && l.Shape == g.Shape && l.Reuse == g.Reuse && l.Mode == mode && l.Payload == size {
			return l.LatencyResult, true
		}
	}
	return LatencyResult{}, false
}

// finish builds the RESULT lines: one per (guest, shape, mode, payload).
func (r *Results) finish(guests []guestFile, cfg *config) {
	for _, g := range guests {
		for _, m := range cfg.modes {
			for _, size := range r.sizesFor(g.Guest, cfg) {
				l := ResultLine{Guest: g.Guest, Shape: g.Shape, Mode: m, Reuse: g.Reuse, Payload: size,
					MsgsPerS:  r.e2eRate(g, m, size),
					Transport: r.transportRate(size),
					Engine:    r.engineRate(g, m, size)}
				if lat, ok := r.latency(g, m, size); ok {
					l.P50us, l.P99us = lat.P50us, lat.P99us
				}
				r.Results = append(r.Results, l)
			}
		}
	}
}

// sizesFor is the payload sizes of a guest's RESULT lines: the -payloads
// sizes, or for the HTTP guest the size of its one command.
func (r *Results) sizesFor(guest string, cfg *config) []int {
	if guest != httpGuest {
		return cfg.payloads
	}
	var out []int
	for _, e := range r.Engine {
		if e.Guest == guest && !slices.Contains(out, e.Payload) {
			out = append(out, e.Payload)
		}
	}
	for _, e := range r.E2E {
		if e.Guest == guest && !slices.Contains(out, e.Payload) {
			out = append(out, e.Payload)
		}
	}
	return out
}

func num(x float64) string {
	if x == 0 {
		return "NA"
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

// Line formats the RESULT line.
func (l ResultLine) Line() string {
	return fmt.Sprintf("RESULT guest=%s shape=%s mode=%s reuse=%d payload=%d msgs_per_s=%s transport_msgs_per_s=%s engine_msgs_per_s=%s p50_us=%s p99_us=%s",
		l.Guest, l.Shape, l.Mode, l.Reuse, l.Payload, num(l.MsgsPerS), num(l.Transport), num(l.Engine), num(l.P50us), num(l.P99us))
}

// file is the guest run the line is about.
func (l ResultLine) file() guestFile {
	return guestFile{Guest: l.Guest, Shape: l.Shape, Reuse: l.Reuse}
}

// write stores the JSON as <dir>/<YYYY-MM-DD>.json (a later run the same
// day replaces it) and returns its path.
func (r *Results) write(dir string, t time.Time) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, t.UTC().Format("2006-01-02")+".json")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

func rng(s Summary, scale float64) string {
	if len(s.Runs) == 0 {
		return "NA"
	}
	if len(s.Runs) == 1 {
		return fmt.Sprintf("%.0f", s.Median*scale)
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", s.Median*scale, s.Min*scale, s.Max*scale)
}

// median is s's median with no decimals, or NA.
func median(s Summary) string {
	if len(s.Runs) == 0 {
		return "NA"
	}
	return fmt.Sprintf("%.0f", s.Median)
}

func rng1(s Summary) string {
	if len(s.Runs) == 0 {
		return "NA"
	}
	if len(s.Runs) == 1 {
		return fmt.Sprintf("%.1f", s.Median)
	}
	return fmt.Sprintf("%.1f (%.1f–%.1f)", s.Median, s.Min, s.Max)
}

func sizeName(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// printTable writes the human-readable summary.
func printTable(w io.Writer, r *Results) {
	fmt.Fprintf(w, "\nredspin bench — %s, %d CPUs (%s), %s, redis %s, %d run(s) per figure, took %s\n",
		r.Date, r.CPUs, r.CPU, r.GoVersion, r.RedisVersion, r.Runs, r.Elapsed)
	fmt.Fprintf(w, "load average at start: %s; at end: %s\n", r.LoadAvg, r.LoadAvgEnd)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\nThroughput, msgs/s: median (min–max)")
	fmt.Fprintln(tw, "guest\tshape\tmode\treuse\tpayload\tredspin\ttransport limit\tengine limit\tof limit\tCPU µs/msg redspin / engine\tp50 µs\tp99 µs\tmax µs\t")
	for _, l := range r.Results {
		lim := l.Transport
		if l.Engine > 0 && (lim == 0 || l.Engine < lim) {
			lim = l.Engine
		}
		of := "NA"
		if lim > 0 && l.MsgsPerS > 0 {
			of = fmt.Sprintf("%.0f%%", 100*l.MsgsPerS/lim)
		}
		var e2e, eng, tr, e2eCPU, engCPU Summary
		for _, x := range r.E2E {
			if x.Guest == l.Guest && x.Shape == l.Shape && x.Reuse == l.Reuse && x.Mode == l.Mode && x.Payload == l.Payload {
				e2e, e2eCPU = x.MsgsPerS, x.CPUUsPerMsg
			}
		}
		for _, x := range r.Engine {
			if x.Guest == l.Guest && x.Shape == l.Shape && x.Reuse == l.Reuse && x.Mode == engineMode(l.Mode) && x.Payload == l.Payload && x.Variant == "default" && x.PayloadKind == "plain" {
				eng, engCPU = x.MsgsPerS, x.CPUUsPerMsg
			}
		}
		for _, x := range r.Transport {
			if x.Payload == l.Payload {
				tr = x.MsgsPerS
			}
		}
		lat, _ := r.latency(l.file(), l.Mode, l.Payload)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s / %s\t%s\t%s\t%s\t\n", l.Guest, l.Shape, l.Mode, l.Reuse, sizeName(l.Payload),
			rng(e2e, 1), rng(tr, 1), rng(eng, 1), of, median(e2eCPU), median(engCPU), num(lat.P50us), num(lat.P99us), num(lat.MaxUs))
	}
	tw.Flush()

	var abl []EngineResult
	for _, e := range r.Engine {
		if e.PayloadKind == quietPayload && e.Variant != "default" {
			abl = append(abl, e)
		}
	}
	if len(abl) > 0 {
		fmt.Fprintf(w, "\nEngine limit with one host optimisation switched off, against the default (payload %q: the guest prints nothing)\n", quietPayload)
		fmt.Fprintln(tw, "guest\tshape\tmode\tpayload\tvariant\tmsgs/s\tdefault msgs/s\tCPU µs/msg\tdefault CPU µs/msg\t")
		for _, e := range abl {
			var def EngineResult
			for _, x := range r.Engine {
				if x.Guest == e.Guest && x.Shape == e.Shape && x.Reuse == e.Reuse && x.Mode == e.Mode && x.PayloadKind == e.PayloadKind && x.Variant == "default" {
					def = x
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", e.Guest, e.Shape, e.Mode, sizeName(e.Payload), e.Variant,
				rng(e.MsgsPerS, 1), rng(def.MsgsPerS, 1), rng1(e.CPUUsPerMsg), rng1(def.CPUUsPerMsg))
		}
		tw.Flush()
	}

	if len(r.Startup) > 0 || len(r.RSS) > 0 {
		fmt.Fprintln(w, "\nStartup (redspin up → Active Channels, ms) and redspin's peak RSS (VmHWM, MiB; ordered/concurrent)")
		fmt.Fprintln(tw, "guest\tshape\tcold cache\twarm cache\tRSS idle\tRSS 64 B load\tRSS peak\t")
		for _, s := range r.Startup {
			var idle, small, peak []string
			for _, x := range r.RSS {
				if x.Guest == s.Guest && x.Shape == s.Shape && x.Reuse == 1 {
					idle = append(idle, mib(x.IdleKiB))
					small = append(small, mib(x.SmallKiB))
					peak = append(peak, mib(x.PeakKiB))
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", s.Guest, s.Shape, rng(s.ColdMs, 1), rng(s.WarmMs, 1),
				strings.Join(idle, "/"), strings.Join(small, "/"), strings.Join(peak, "/"))
		}
		tw.Flush()
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range r.Notes {
			fmt.Fprintln(w, "  -", n)
		}
	}
}

func mib(kib int64) string {
	if kib == 0 {
		return "NA"
	}
	return fmt.Sprintf("%.0f", float64(kib)/1024)
}
