package core

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/realmd/realmd/pipeline"
)

// Outcomes of a request, the label of realmd_requests_total: the pipeline's
// outcomes, and two the front door decides before it.
const (
	outcomeBlocked   = "blocked"   // an address blocked by auth_failure_listeners
	outcomeForbidden = "forbidden" // a reserved _opendistro_security_ header
	outcomeError     = "error"     // the client address could not be resolved
)

// metrics are realmd's Prometheus metrics, served at GET /metrics. Request
// counters are bound to their labels up front, so counting costs an atomic
// add; everything that is state (generation, plugins, cache size) is read at
// scrape time from the daemon, so it exists in one place only.
type metrics struct {
	registry  *prometheus.Registry
	requests  map[string]prometheus.Counter
	duration  prometheus.Histogram
	cacheHits prometheus.Counter
	reloads   *prometheus.CounterVec
}

func newMetrics(d *Daemon) *metrics {
	m := &metrics{registry: prometheus.NewRegistry(), requests: map[string]prometheus.Counter{}}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realmd_requests_total",
		Help: "Requests answered by the authenticating endpoints, by outcome.",
	}, []string{"outcome"})
	for _, o := range []pipeline.Outcome{pipeline.Authenticated, pipeline.Challenged, pipeline.Unavailable, pipeline.Overloaded} {
		m.requests[o.String()] = requests.WithLabelValues(o.String())
	}
	for _, o := range []string{outcomeBlocked, outcomeForbidden, outcomeError} {
		m.requests[o] = requests.WithLabelValues(o)
	}
	m.duration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "realmd_request_duration_seconds",
		Help:    "Time to answer a request at an authenticating endpoint.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9), // 100 µs to 6.5 s
	})
	m.cacheHits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "realmd_identity_cache_hits_total",
		Help: "Requests answered from the identity cache.",
	})
	m.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "realmd_config_reloads_total",
		Help: "Config reloads by result: applied, unchanged (same content) or refused (the previous config kept serving).",
	}, []string{"result"})
	for _, r := range []string{"applied", "unchanged", "refused"} {
		m.reloads.WithLabelValues(r) // shown at 0 before the first reload
	}
	m.registry.MustRegister(requests, m.duration, m.cacheHits, m.reloads, &stateCollector{d: d},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// answered counts one request; start is when it arrived.
func (m *metrics) answered(outcome string, cached bool, start time.Time) {
	if c, ok := m.requests[outcome]; ok {
		c.Inc()
	}
	if cached {
		m.cacheHits.Inc()
	}
	m.duration.Observe(time.Since(start).Seconds())
}

// outcomeOf is the realmd_requests_total label of a pipeline result.
func outcomeOf(res pipeline.Result) string {
	if res.Blocked {
		return outcomeBlocked
	}
	return res.Outcome.String()
}

func (m *metrics) reloaded(result string) { m.reloads.WithLabelValues(result).Inc() }

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// stateCollector reads the daemon's state at scrape time.
type stateCollector struct{ d *Daemon }

var (
	generationDesc = prometheus.NewDesc("realmd_config_generation",
		"The serving config generation; it goes up by one per applied reload.", nil, nil)
	loadedDesc = prometheus.NewDesc("realmd_config_loaded_timestamp_seconds",
		"When the serving config was loaded.", nil, nil)
	refusedDesc = prometheus.NewDesc("realmd_config_last_reload_refused",
		"1 while the last reload was refused (see /_realmd/status for the file and line), else 0.", nil, nil)
	cacheEntriesDesc = prometheus.NewDesc("realmd_identity_cache_entries",
		"Identities in the serving generation's cache.", nil, nil)
	cacheBytesDesc = prometheus.NewDesc("realmd_identity_cache_bytes",
		"Approximate bytes the serving generation's cached identities hold (the cache keeps them under 256 MiB).", nil, nil)
	pluginUpDesc = prometheus.NewDesc("realmd_plugin_up",
		"1 while a plugin instance's process is running and answers its calls, else 0 (starting, restarting, unresponsive or stopped).", []string{"instance", "plugin"}, nil)
	pluginRestartsDesc = prometheus.NewDesc("realmd_plugin_restarts_total",
		"Restarts of a plugin instance's process since it was started.", []string{"instance", "plugin"}, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{generationDesc, loadedDesc, refusedDesc, cacheEntriesDesc, cacheBytesDesc, pluginUpDesc, pluginRestartsDesc} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	rep := c.d.Status()
	refused := 0.0
	if rep.LastError != nil {
		refused = 1
	}
	ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.GaugeValue, refused)
	if rep.Generation == 0 { // not serving yet
		return
	}
	ch <- prometheus.MustNewConstMetric(generationDesc, prometheus.GaugeValue, float64(rep.Generation))
	ch <- prometheus.MustNewConstMetric(loadedDesc, prometheus.GaugeValue, float64(rep.LoadedAt.UnixNano())/1e9)
	ch <- prometheus.MustNewConstMetric(cacheEntriesDesc, prometheus.GaugeValue, float64(rep.CacheEntries))
	ch <- prometheus.MustNewConstMetric(cacheBytesDesc, prometheus.GaugeValue, float64(rep.CacheBytes))
	for _, p := range rep.Plugins {
		up := 0.0
		if p.State == StateRunning {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(pluginUpDesc, prometheus.GaugeValue, up, p.Name, p.Plugin)
		ch <- prometheus.MustNewConstMetric(pluginRestartsDesc, prometheus.CounterValue, float64(p.Restarts), p.Name, p.Plugin)
	}
}
