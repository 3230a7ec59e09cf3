package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// sseStreams holds -users x -tabs event streams (GET /api/events) open until SIGTERM, and
// measures how long each event took from its commit (the event's time, taken by PostgreSQL in
// the committing transaction, on this machine's clock) to its arrival here. It writes the -ready
// file once every stream is open, and its result line to -out at the end:
//
//	SSE streams=2000 events=N p50_ms=.. p99_ms=.. max_ms=.. reconnects=..
//
// A stream that ends (it should not) reconnects with Last-Event-ID; reconnects counts those.
func sseStreams(args []string) error {
	fs := flag.NewFlagSet("sse", flag.ExitOnError)
	base := fs.String("base", "http://127.0.0.1:18080", "the server")
	tokensPath := fs.String("tokens", "tokens.txt", "token file (benchtool tokens)")
	users := fs.Int("users", 200, "users: the first N of the token file")
	tabs := fs.Int("tabs", 10, "streams per user")
	ready := fs.String("ready", "", "file written once every stream is open")
	out := fs.String("out", "", "file for the result line (stdout when empty)")
	openTimeout := fs.Duration("open-timeout", time.Minute, "how long opening every stream may take")
	_ = fs.Parse(args)
	toks, err := readTokens(*tokensPath)
	if err != nil {
		return err
	}
	if len(toks) < *users {
		return fmt.Errorf("%d users asked for, %d tokens", *users, len(toks))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	n := *users * *tabs
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n, DisableCompression: true}}
	var (
		opened, reconnects atomic.Int64
		mu                 sync.Mutex
		latencies          []float64 // ms
		failure            error
	)
	var wg sync.WaitGroup
	for i := range n {
		tok := toks[i / *tabs]
		wg.Go(func() {
			last, first := "", true
			for ctx.Err() == nil {
				err := readStream(ctx, client, *base, tok.token, &last, func() {
					if first {
						opened.Add(1)
						first = false
					}
				}, func(ms float64) {
					mu.Lock()
					latencies = append(latencies, ms)
					mu.Unlock()
				})
				if ctx.Err() != nil {
					return
				}
				if first { // never opened: give up, and say why
					mu.Lock()
					failure = cmpErr(failure, fmt.Errorf("%s: %w", tok.user, err))
					mu.Unlock()
					return
				}
				reconnects.Add(1)
			}
		})
	}
	deadline := time.Now().Add(*openTimeout)
	for opened.Load() < int64(n) {
		mu.Lock()
		err := failure
		mu.Unlock()
		if err != nil || time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			wg.Wait()
			return fmt.Errorf("%d of %d streams open: %v", opened.Load(), n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte("ready\n"), 0o600); err != nil {
			return err
		}
	}
	<-ctx.Done()
	wg.Wait()

	slices.Sort(latencies)
	q := func(p float64) float64 {
		if len(latencies) == 0 {
			return math.NaN()
		}
		return latencies[min(len(latencies)-1, int(p*float64(len(latencies))))]
	}
	line := fmt.Sprintf("SSE streams=%d events=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f reconnects=%d\n",
		n, len(latencies), q(0.50), q(0.99), q(1), reconnects.Load())
	if *out == "" {
		_, err = fmt.Print(line)
		return err
	}
	return os.WriteFile(*out, []byte(line), 0o600)
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// readStream reads one stream until it ends, resuming after *last; opened is called once the
// server answered 200, got with each event's delay in milliseconds.
func readStream(ctx context.Context, client *http.Client, base, token string, last *string, opened func(), got func(ms float64)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/events", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if *last != "" {
		req.Header.Set("Last-Event-ID", *last)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api/events: %s", resp.Status)
	}
	opened()
	lines := bufio.NewScanner(resp.Body)
	lines.Buffer(make([]byte, 64*1024), 1024*1024)
	for lines.Scan() {
		line := lines.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			*last = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			// The event's last member but one is its time (encoding/json keeps the struct's
			// order: id, task, task_id, time, type); cheaper to find than to decode the event.
			i := strings.LastIndex(line, `,"time":"`)
			if i < 0 {
				return fmt.Errorf("an event without its time: %.200s", line)
			}
			rest := line[i+len(`,"time":"`):]
			end := strings.IndexByte(rest, '"')
			at, err := time.Parse(time.RFC3339Nano, rest[:max(end, 0)])
			if err != nil {
				return err
			}
			got(float64(time.Since(at).Microseconds()) / 1000)
		}
	}
	if err := lines.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return errors.New("the stream ended")
}
