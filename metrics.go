package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"councilgraph/httpapi"
	"councilgraph/store"
)

// registerCacheMetrics exports the response cache's counters on reg.
func registerCacheMetrics(reg *prometheus.Registry, c *httpapi.ResponseCache) {
	counter := func(name, help string, v func(httpapi.CacheStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v(c.Stats())) })
	}
	gauge := func(name, help string, v func(httpapi.CacheStats) int64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 { return float64(v(c.Stats())) })
	}
	reg.MustRegister(
		counter("councilgraph_response_cache_hits_total", "Queries answered from the response cache.", func(s httpapi.CacheStats) int64 { return s.Hits }),
		counter("councilgraph_response_cache_misses_total", "Cacheable queries run because the cache held no answer.", func(s httpapi.CacheStats) int64 { return s.Misses }),
		counter("councilgraph_response_cache_evictions_total", "Answers dropped to keep the cache within its bound.", func(s httpapi.CacheStats) int64 { return s.Evictions }),
		gauge("councilgraph_response_cache_bytes", "What the response cache's entries weigh.", func(s httpapi.CacheStats) int64 { return s.Bytes }),
		gauge("councilgraph_response_cache_entries", "Answers the response cache holds.", func(s httpapi.CacheStats) int64 { return s.Entries }),
	)
}

// registerDataMetrics exports what the service knows of its data: the
// generation (raised by every write, whichever process made it) and when
// it last rose, so that an alert can ask how long since the last import;
// and the snapshot reads are answered from (store/snapshot.go): which
// records' generation it holds (behind councilgraph_records_generation
// while it is rebuilt, 0
// when the data set is too large for it), its size, and the reads it sent
// to the database instead.
func registerDataMetrics(reg *prometheus.Registry, s *store.Store) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "councilgraph_data_generation", Help: "The data generation this process has seen: raised by every write to the data and by key changes."},
			func() float64 { return float64(s.SeenGeneration()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "councilgraph_data_generation_changed_timestamp_seconds", Help: "When this process last saw the data generation rise (0: not since it started); time() minus this is the time since the last write."},
			func() float64 {
				at := s.SeenGenerationAt()
				if at.IsZero() {
					return 0
				}
				return float64(at.UnixNano()) / 1e9
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "councilgraph_records_generation", Help: "The records' generation this process has seen: the data generation less its raises by key changes."},
			func() float64 { return float64(s.SeenRecordsGeneration()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "councilgraph_snapshot_generation", Help: "The records' generation whose snapshot answers reads (0: none; reads go to the database)."},
			func() float64 { return float64(s.SnapshotStats().Generation) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "councilgraph_snapshot_bytes", Help: "What the documents of the snapshot in use weigh, as BSON."},
			func() float64 { return float64(s.SnapshotStats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "councilgraph_snapshot_records", Help: "The records the snapshot in use holds."},
			func() float64 { return float64(s.SnapshotStats().Records) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "councilgraph_snapshot_build_seconds", Help: "How long the snapshot in use took to read."},
			func() float64 { return s.SnapshotStats().BuildTime.Seconds() }),
	)
}
