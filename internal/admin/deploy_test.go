package admin

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// The dashboard and the alerting rules shipped in deploy/.
var (
	dashboardFile  = filepath.Join("..", "..", "deploy", "grafana", "redspin.json")
	alertsFile     = filepath.Join("..", "..", "deploy", "prometheus", "alerts.yml")
	alertsTestFile = filepath.Join("..", "..", "deploy", "prometheus", "alerts_test.yml")
)

// exportedMetrics returns the names a live Metrics registry exposes once every kind of series exists,
// with the _bucket, _sum and _count series of histograms and summaries.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	m := NewMetrics()
	m.SetBuild(BuildInfo{Version: "v0", Go: "go", Wasmtime: "39"})
	m.Lane("s", "c").Received()
	m.Component("x").Observe(observe.Handled, time.Millisecond)
	m.Stream("s", "st", "g").Finished(observe.Handled, time.Millisecond)
	m.Server("s").Reconnected()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM:
			names[f.GetName()+"_bucket"] = true
			fallthrough
		case dto.MetricType_SUMMARY:
			names[f.GetName()+"_sum"] = true
			names[f.GetName()+"_count"] = true
		}
	}
	return names
}

var (
	promqlString    = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promqlMatchers  = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	promqlLabelList = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlIdent     = regexp.MustCompile(`[0-9.]*[a-zA-Z_:][a-zA-Z0-9_:]*`)
	promqlKeywords  = []string{"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2"}
)

// promqlMetrics returns the metric names a PromQL expression selects: the identifiers that are not
// functions or aggregations (followed by "("), keywords, numbers, label names (in {...}, by (...) and
// the like), strings or durations.
func promqlMetrics(expr string) []string {
	e := promqlString.ReplaceAllString(expr, `""`)
	e = promqlMatchers.ReplaceAllString(e, "")
	e = promqlLabelList.ReplaceAllString(e, "")
	var names []string
	for _, loc := range promqlIdent.FindAllStringIndex(e, -1) {
		tok := e[loc[0]:loc[1]]
		if tok[0] >= '0' && tok[0] <= '9' || tok[0] == '.' || slices.Contains(promqlKeywords, strings.ToLower(tok)) {
			continue
		}
		if rest := strings.TrimLeft(e[loc[1]:], " \t\n"); strings.HasPrefix(rest, "(") {
			continue
		}
		names = append(names, tok)
	}
	return names
}

func TestPromqlMetrics(t *testing.T) {
	got := promqlMetrics(`histogram_quantile(0.99, sum by (le, component) (rate(a_bucket{x=~"$i",y="b c"}[$__rate_interval]))) / ignoring(le) b > 1e3 and on (z) c_total offset 5m`)
	if want := []string{"a_bucket", "b", "c_total"}; !slices.Equal(got, want) {
		t.Fatalf("promqlMetrics = %q, want %q", got, want)
	}
}

type grafanaPanel struct {
	Title   string         `json:"title"`
	Type    string         `json:"type"`
	Panels  []grafanaPanel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// dashboardQueries returns every PromQL query of the dashboard (panel targets, rows' panels and the
// variables' label_values metrics), by panel title.
func dashboardQueries(t *testing.T) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title      string         `json:"title"`
		UID        string         `json:"uid"`
		Panels     []grafanaPanel `json:"panels"`
		Templating struct {
			List []struct {
				Name       string `json:"name"`
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Fatalf("%s: no title or uid", dashboardFile)
	}
	queries := map[string][]string{}
	var walk func([]grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			walk(p.Panels)
			for _, tg := range p.Targets {
				queries[p.Title] = append(queries[p.Title], tg.Expr)
			}
			if p.Type != "row" && len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
		}
	}
	walk(d.Panels)
	labelValues := regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
	for _, v := range d.Templating.List {
		if v.Definition == "" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %q: unrecognised query %q", v.Name, v.Definition)
			continue
		}
		queries["variable "+v.Name] = append(queries["variable "+v.Name], m[1])
	}
	return queries
}

func TestGrafanaDashboardQueriesExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	used := map[string]bool{}
	for title, exprs := range dashboardQueries(t) {
		for _, e := range exprs {
			names := promqlMetrics(e)
			if len(names) == 0 {
				t.Errorf("panel %q: query names no metric: %s", title, e)
			}
			for _, n := range names {
				used[n] = true
				if !exported[n] {
					t.Errorf("panel %q: %s is not a metric redspin exports (query %s)", title, n, e)
				}
			}
		}
	}
	// Every topic the dashboard is for has a query.
	for _, n := range []string{MetricHandled, MetricFailed, MetricTimedOut, MetricHandlerDuration + "_bucket",
		MetricReceived, MetricQueueDepth, MetricDropped, MetricStreamLag, MetricStreamPending,
		MetricStreamDeadLettered, MetricReconnects, MetricStreamReconnects, MetricConnected, MetricStreamConnected,
		"process_resident_memory_bytes"} {
		if !used[n] {
			t.Errorf("the dashboard has no query of %s", n)
		}
	}
}

// alertExprs returns the expr of every rule in alerts.yml, by alert name (the file's own layout:
// "- alert: X" then "expr: ..." on one line or as a "|" block).
func alertExprs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	exprs := map[string]string{}
	lines := strings.Split(string(b), "\n")
	alert := ""
	for i := 0; i < len(lines); i++ {
		s := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(s, "- alert:"):
			alert = strings.TrimSpace(strings.TrimPrefix(s, "- alert:"))
		case s == "expr: |":
			indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
			var block []string
			for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" ||
				len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > indent) {
				i++
				block = append(block, lines[i])
			}
			exprs[alert] = strings.Join(block, "\n")
		case strings.HasPrefix(s, "expr:"):
			exprs[alert] = strings.TrimSpace(strings.TrimPrefix(s, "expr:"))
		}
	}
	return exprs
}

func TestAlertRulesQueryExportedMetrics(t *testing.T) {
	exported := exportedMetrics(t)
	exprs := alertExprs(t)
	for _, want := range []string{"RedspinSubscriptionDown", "RedspinMessagesDropped", "RedspinHandlerFailureRatio",
		"RedspinStreamLagGrowing", "RedspinDeadLetters", "RedspinHandlerTimeouts"} {
		if exprs[want] == "" {
			t.Errorf("%s: no alert %s", alertsFile, want)
		}
	}
	for alert, e := range exprs {
		names := promqlMetrics(e)
		if len(names) == 0 {
			t.Errorf("alert %s: names no metric: %s", alert, e)
		}
		for _, n := range names {
			if !exported[n] {
				t.Errorf("alert %s: %s is not a metric redspin exports", alert, n)
			}
		}
	}
}

// requirePromtool returns promtool's path, skipping the test without it (failing when REDSPIN_E2E=1).
func requirePromtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv(redisserver.EnvE2E) == "1" {
			t.Fatalf("promtool not found and %s=1: install it (apt-get install -y --no-install-recommends prometheus)", redisserver.EnvE2E)
		}
		t.Skipf("promtool not found (apt-get install -y --no-install-recommends prometheus, or set %s=1 to make this a failure)", redisserver.EnvE2E)
	}
	return p
}

// TestAlertRules runs the rules' unit tests (deploy/prometheus/alerts_test.yml) with promtool.
func TestAlertRules(t *testing.T) {
	promtool := requirePromtool(t)
	for _, args := range [][]string{{"check", "rules", alertsFile}, {"test", "rules", alertsTestFile}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "SUCCESS") {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestGrafanaDashboardQueriesParse checks the dashboard's PromQL with promtool: every query, with the
// Grafana variables replaced, becomes a recording rule of a file that promtool check rules parses.
func TestGrafanaDashboardQueriesParse(t *testing.T) {
	promtool := requirePromtool(t)
	vars := strings.NewReplacer("$__rate_interval", "5m", "$instance", ".*")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	n := 0
	for title, exprs := range dashboardQueries(t) {
		if strings.HasPrefix(title, "variable ") {
			continue
		}
		for _, e := range exprs {
			n++
			q, _ := json.Marshal(vars.Replace(e)) // a JSON string is a YAML double-quoted string
			fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %s\n", n, q)
		}
	}
	file := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(file, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", file).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", n)) {
		t.Errorf("promtool check rules on the dashboard's %d queries: %v\n%s", n, err, out)
	}
}
