package loadgen

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram is a log-linear latency histogram in the manner of HDR
// histograms: values (microseconds) below 64 have exact buckets, larger ones
// 64 buckets per power of two, so every value is kept to within 1/64
// (1.6 %) in a fixed 2,048 counters whatever the sample count. Record is
// lock-free and safe for concurrent use; histograms merge by adding counts,
// which is how worker processes' latencies combine exactly.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
}

const (
	subBits     = 6
	subCount    = 1 << subBits                      // 64
	maxExp      = 37                                // values below 2^37 µs (~38 h); larger ones land in the last bucket
	histBuckets = (maxExp - subBits + 1) * subCount // 2,048
)

// bucketOf maps a value to its bucket index.
func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [64, 128)
	i := (e+1)*subCount + int(v>>e) - subCount
	if i >= histBuckets {
		return histBuckets - 1
	}
	return i
}

// bucketValue is the midpoint of bucket i's range.
func bucketValue(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	e := i/subCount - 1
	low := uint64(i%subCount+subCount) << e
	return low + (uint64(1)<<e)/2
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	us := d.Microseconds()
	if us < 0 {
		us = 0
	}
	h.counts[bucketOf(uint64(us))].Add(1)
}

// Swap returns the counts recorded since the previous Swap, as a sparse
// snapshot, and clears them.
func (h *Histogram) Swap() HistSnapshot {
	var s HistSnapshot
	for i := range h.counts {
		if h.counts[i].Load() == 0 {
			continue
		}
		if n := h.counts[i].Swap(0); n > 0 {
			s = append(s, [2]uint64{uint64(i), n})
		}
	}
	return s
}

// HistSnapshot is a sparse histogram: [bucket index, count] pairs in index
// order. It is what workers send their parent.
type HistSnapshot [][2]uint64

// Dist is a plain (single-goroutine) histogram that snapshots merge into.
type Dist struct {
	counts [histBuckets]uint64
	n      uint64
	max    int // highest non-empty bucket
}

// Add merges a snapshot.
func (d *Dist) Add(s HistSnapshot) {
	for _, p := range s {
		i := int(p[0])
		if i < 0 || i >= histBuckets {
			continue
		}
		d.counts[i] += p[1]
		d.n += p[1]
		d.max = max(d.max, i)
	}
}

// Merge adds o's counts.
func (d *Dist) Merge(o *Dist) {
	for i, c := range o.counts {
		d.counts[i] += c
	}
	d.n += o.n
	d.max = max(d.max, o.max)
}

// Count is the number of values.
func (d *Dist) Count() uint64 { return d.n }

// Quantile returns the value at quantile q (0..1); 0 when empty.
func (d *Dist) Quantile(q float64) time.Duration {
	if d.n == 0 {
		return 0
	}
	rank := uint64(q * float64(d.n))
	if rank >= d.n {
		rank = d.n - 1
	}
	var seen uint64
	for i := 0; i <= d.max; i++ {
		seen += d.counts[i]
		if seen > rank {
			return time.Duration(bucketValue(i)) * time.Microsecond
		}
	}
	return time.Duration(bucketValue(d.max)) * time.Microsecond
}

// Max is the largest value's bucket.
func (d *Dist) Max() time.Duration {
	if d.n == 0 {
		return 0
	}
	return time.Duration(bucketValue(d.max)) * time.Microsecond
}

// Summary is a distribution's headline figures.
type Summary struct {
	Count uint64        `json:"count"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	P999  time.Duration `json:"p999_ns"`
	Max   time.Duration `json:"max_ns"`
}

// Summary computes the headline figures.
func (d *Dist) Summary() Summary {
	return Summary{Count: d.n, P50: d.Quantile(0.50), P90: d.Quantile(0.90), P99: d.Quantile(0.99),
		P999: d.Quantile(0.999), Max: d.Max()}
}
