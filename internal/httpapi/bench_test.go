package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"taskapi/internal/apitest"
)

// End-to-end request cost through the real stack (HTTP, auth, validation, PostgreSQL), with
// and without metrics, for profiling and for the metrics' overhead:
// go test -run '^$' -bench Stack -count 10 ./internal/httpapi | benchstat -
func BenchmarkStack(b *testing.B) {
	for _, metrics := range []bool{true, false} {
		s := apitest.Start(b, apitest.Options{NoMetrics: !metrics})
		token := s.Token("bench")
		var id string
		for i := range 100 {
			id = create(b, s.Client, token, map[string]any{"title": fmt.Sprintf("task %d", i), "tags": []string{"a", "b"}, "description": "some words here"}).ID
		}
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		for _, op := range []struct{ name, path string }{{"list", "/api/tasks?limit=20"}, {"get", "/api/tasks/" + id}} {
			b.Run(fmt.Sprintf("%s/metrics=%v", op.name, metrics), func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req, _ := http.NewRequest(http.MethodGet, s.BaseURL+op.path, nil)
						req.Header.Set("Authorization", "Bearer "+token)
						resp, err := client.Do(req)
						if err != nil {
							b.Fatal(err)
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != http.StatusOK {
							b.Fatalf("status %d", resp.StatusCode)
						}
					}
				})
			})
		}
	}
}
