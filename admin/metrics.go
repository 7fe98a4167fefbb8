package admin

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/supportdesk/ivr/errs"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_http_requests_total",
			Help: "HTTP requests served, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ivr_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by method and route template.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}, []string{"method", "route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_http_errors_total",
			Help: "Error responses, by error code.",
		}, []string{"code"}),
	}
	reg.MustRegister(m.requests, m.duration, m.errors)
	return m
}

var errPanic = errors.New("handler panicked")

func errNoRoute(r *http.Request) error {
	return errs.E(errs.NotFound, "", "no such endpoint: %s %s", r.Method, r.URL.Path)
}
