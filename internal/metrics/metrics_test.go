package metrics

import (
	"testing"
	"time"
)

// What the metrics add to every request.
func BenchmarkObserveRequest(b *testing.B) {
	m := New(nil)
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("/api/tasks/:id", "GET", 200, 3*time.Millisecond)
	}
}
