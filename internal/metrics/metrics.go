// Package metrics exposes taskapi's Prometheus metrics: requests by route, method and status,
// their durations, the database pool, and authentication failures by reason.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one registry of the service's metrics.
type Metrics struct {
	registry     *prometheus.Registry
	requests     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	authFailures *prometheus.CounterVec
	// series caches each (route, method, status)'s counter and histogram: looking them up
	// by label values hashes strings on every request (BenchmarkObserveRequest).
	series sync.Map // seriesKey -> series
}

type seriesKey struct {
	route, method string
	status        int
}

type series struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

// New registers the metrics, the Go runtime's and the process's, and pool's gauges.
func New(pool *pgxpool.Pool) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "taskapi_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route template, method and status.",
			// 20 ms is the latency goal (bench/RESULTS.md), so a bucket ends there.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .02, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method", "status"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taskapi_auth_failures_total",
			Help: "Requests refused for their bearer token, by reason.",
		}, []string{"reason"}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.authFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		poolCollector{pool})
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveRequest counts one answered request. route is the route template (/api/tasks/:id),
// never the URL, so the label set stays small.
func (m *Metrics) ObserveRequest(route, method string, status int, took time.Duration) {
	key := seriesKey{route, method, status}
	s, ok := m.series.Load(key)
	if !ok {
		code := strconv.Itoa(status)
		s, _ = m.series.LoadOrStore(key, series{
			count:    m.requests.WithLabelValues(route, method, code),
			duration: m.duration.WithLabelValues(route, method, code),
		})
	}
	s.(series).count.Inc()
	s.(series).duration.Observe(took.Seconds())
}

// AuthFailure counts a refused token; reason is one of a fixed set (auth's Reason constants).
func (m *Metrics) AuthFailure(reason string) {
	m.authFailures.WithLabelValues(reason).Inc()
}

// poolCollector reads pgxpool's statistics when scraped.
type poolCollector struct{ pool *pgxpool.Pool }

var (
	poolTotal     = prometheus.NewDesc("taskapi_db_pool_connections", "Connections in the pool.", nil, nil)
	poolIdle      = prometheus.NewDesc("taskapi_db_pool_idle_connections", "Idle connections in the pool.", nil, nil)
	poolAcquired  = prometheus.NewDesc("taskapi_db_pool_acquired_connections", "Connections in use.", nil, nil)
	poolMax       = prometheus.NewDesc("taskapi_db_pool_max_connections", "The pool's size limit.", nil, nil)
	poolAcquires  = prometheus.NewDesc("taskapi_db_pool_acquires_total", "Connections acquired from the pool.", nil, nil)
	poolEmpty     = prometheus.NewDesc("taskapi_db_pool_empty_acquires_total", "Acquires that had to wait for a connection.", nil, nil)
	poolWaited    = prometheus.NewDesc("taskapi_db_pool_acquire_wait_seconds_total", "Time spent acquiring connections.", nil, nil)
	poolCancelled = prometheus.NewDesc("taskapi_db_pool_canceled_acquires_total", "Acquires given up (context ended).", nil, nil)
)

func (poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolTotal, poolIdle, poolAcquired, poolMax, poolAcquires, poolEmpty, poolWaited, poolCancelled} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolTotal, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquires, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolEmpty, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(poolCancelled, prometheus.CounterValue, float64(s.CanceledAcquireCount()))
}
