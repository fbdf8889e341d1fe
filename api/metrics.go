package api

import (
	"strconv"

	"github.com/accrual/accrual/engine"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Route labels: a fixed set, so metric cardinality stays bounded.
const (
	rCommands = iota
	rStream
	rConvenience
	rQuote
	rMember
	rStatement
	rBalance
	rCommand
	rSettlement
	rStats
	rProgram
	rCluster
	rMetrics
	rHealth
	rReady
	rConsole
	rNotFound
	rMembers
	rOpenAPI
	rChanges
	routeCount
)

var routeNames = [routeCount]string{"commands", "stream", "convenience", "quote", "member", "statement",
	"balance", "command", "settlement", "stats", "program", "cluster", "metrics", "healthz", "readyz", "console", "unmatched",
	"members", "openapi", "changes"}

// metrics of one server (its own registry, so tests can run many servers).
type metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	latency     [routeCount]prometheus.Observer
	batch       prometheus.Observer
	cmdOK       prometheus.Counter
	cmdDup      prometheus.Counter
	cmdErr      [64]prometheus.Counter // by engine.ErrorCode
	cmdErrOther prometheus.Counter
	handler     fasthttp.RequestHandler
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrual_http_requests_total", Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "accrual_http_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "accrual_submit_batch_commands", Help: "Commands per Backend.Submit call.",
		Buckets: prometheus.ExponentialBuckets(1, 4, 8), // 1 … 16384
	})
	cmds := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "accrual_commands_total", Help: "Command results by status and error code.",
	}, []string{"status", "error"})
	m.reg.MustRegister(m.requests, lat, batch, cmds)
	for i := range m.latency {
		m.latency[i] = lat.WithLabelValues(routeNames[i])
	}
	m.batch = batch
	m.cmdOK = cmds.WithLabelValues("ok", "")
	m.cmdDup = cmds.WithLabelValues("duplicate", "")
	for c := engine.ErrInvalid; c.String() != "unknown" && int(c) < len(m.cmdErr); c++ {
		m.cmdErr[c] = cmds.WithLabelValues("error", c.String())
	}
	m.cmdErrOther = cmds.WithLabelValues("error", "other")
	m.handler = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	return m
}

// registerDisk exports a backend's disk guard; read at scrape time only.
func (m *metrics) registerDisk(d DiskReporter) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "accrual_disk_free_bytes", Help: "Free bytes of the data directory's filesystem at the last check.",
		}, func() float64 { free, _ := d.Disk(); return float64(free) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "accrual_disk_writes_refused", Help: "1 while new commands are refused for lack of disk space (HTTP 507 disk_full), else 0.",
		}, func() float64 {
			if _, refused := d.Disk(); refused {
				return 1
			}
			return 0
		}),
	)
}

// registerScrub exports a backend's background scrub; read at scrape time.
func (m *metrics) registerScrub(r ScrubReporter) {
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "accrual_scrub_passes_total", Help: "Full passes of the background scrub over every table of the ledger and the Raft log.",
		}, func() float64 { p, _, _ := r.Scrub(); return float64(p) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "accrual_scrub_damaged_tables_total", Help: "Tables whose block checksum failed when the scrub read them (the node stops on the first).",
		}, func() float64 { _, d, _ := r.Scrub(); return float64(d) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "accrual_scrub_read_bytes_total", Help: "Bytes the background scrub read from table files.",
		}, func() float64 { _, _, b := r.Scrub(); return float64(b) }),
	)
}

// registerClock exports a backend's cluster clock; read at scrape time.
func (m *metrics) registerClock(c ClockReporter) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "accrual_clock_offset_ms", Help: "This node's wall clock minus the time a majority of the voters' clocks agree on.",
		}, func() float64 { return float64(c.Clock().OffsetMS) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "accrual_clock_synchronized", Help: "1 while a majority of the voters' clocks agrees with this node's within the tolerance, else 0: a leader then ticks no time and refuses commands without at (clock_unsynchronized).",
		}, func() float64 {
			if c.Clock().Synchronized {
				return 1
			}
			return 0
		}),
	)
}

// request counts one finished request; status-code labels are cached.
func (m *metrics) request(route int, code int, seconds float64) {
	m.latency[route].Observe(seconds)
	m.requests.WithLabelValues(routeNames[route], statusLabel(code)).Inc()
}

var statusLabels = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return
}()

func statusLabel(code int) string {
	if code >= 0 && code < len(statusLabels) {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}

// result counts one command result line.
func (m *metrics) result(line []byte) {
	code, dup := resultCode(line)
	switch {
	case code == engine.OK && dup:
		m.cmdDup.Inc()
	case code == engine.OK:
		m.cmdOK.Inc()
	case int(code) < len(m.cmdErr) && m.cmdErr[code] != nil:
		m.cmdErr[code].Inc()
	default:
		m.cmdErrOther.Inc()
	}
}
