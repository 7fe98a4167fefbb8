// Package pagerprom exports the pager's metrics to Prometheus: pages by
// status and past their deadline (read from the store at each scrape),
// attempts by channel and outcome, and the time from an attempt being
// written (for a page's first one: the page being raised) to the provider
// accepting it. It keeps Prometheus out of the pager's domain package.
package pagerprom

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/supportdesk/ivr/pager"
)

// Pages lists pages, for the gauges.
type Pages interface {
	Pages(ctx context.Context, f pager.Filter) ([]pager.Page, error)
}

// Metrics is a pager.Observer that counts into Prometheus.
type Metrics struct {
	attempts *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

var _ pager.Observer = (*Metrics)(nil)

// scrapeBudget bounds the store queries of one scrape.
const scrapeBudget = 2 * time.Second

// Register creates the pager's metrics in reg; pages is read at each
// scrape, now is the pager's clock (for "past its deadline").
func Register(reg prometheus.Registerer, pages Pages, now func() time.Time, log *zap.Logger) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ivr_pager_attempts_total",
			Help: "Attempts that ended, by channel (voice, sms, note) and outcome (acknowledged, no-answer, delivered, rejected, failed, …).",
		}, []string{"channel", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ivr_pager_provider_latency_seconds",
			Help:    "From an attempt being written (a page's first: the page raised) to the provider accepting it, by channel.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"channel"}),
	}
	reg.MustRegister(m.attempts, m.latency, &gauges{pages: pages, now: now, log: log})
	return m
}

// Sent counts an accepted request.
func (m *Metrics) Sent(kind pager.Kind, latency time.Duration) {
	m.latency.WithLabelValues(string(kind)).Observe(latency.Seconds())
}

// Ended counts an attempt's outcome.
func (m *Metrics) Ended(kind pager.Kind, o pager.Outcome) {
	m.attempts.WithLabelValues(string(kind), string(o)).Inc()
}

var (
	openDesc = prometheus.NewDesc("ivr_pager_open_pages",
		"Pages being escalated now (not acknowledged, not resolved).", nil, nil)
	overdueDesc = prometheus.NewDesc("ivr_pager_overdue_pages",
		"Open pages past their guaranteed response time: nobody has acknowledged them in time. Alert on any.", nil, nil)
	errDesc = prometheus.NewDesc("ivr_pager_scrape_errors_total",
		"Scrapes whose store query failed (the page gauges are then missing).", nil, nil)
)

// gauges reads the open pages at each scrape: they are few (a page is
// open until acknowledged), so a list is cheaper than an index.
type gauges struct {
	pages  Pages
	now    func() time.Time
	log    *zap.Logger
	errors atomic.Int64
}

func (g *gauges) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- overdueDesc
	ch <- errDesc
}

func (g *gauges) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeBudget)
	defer cancel()
	open, err := g.pages.Pages(ctx, pager.Filter{Status: pager.Open, Limit: 1000})
	if err != nil {
		n := g.errors.Add(1)
		g.log.Warn("pager metrics: could not list open pages", zap.Error(err))
		ch <- prometheus.MustNewConstMetric(errDesc, prometheus.CounterValue, float64(n))
		return
	}
	now := g.now()
	overdue := 0
	for _, p := range open {
		if !now.Before(p.Deadline) {
			overdue++
		}
	}
	ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(len(open)))
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(overdue))
	ch <- prometheus.MustNewConstMetric(errDesc, prometheus.CounterValue, float64(g.errors.Load()))
}
