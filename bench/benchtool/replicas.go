package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The idempotent-create client of bench/replicas.sh: what a real client behind a load balancer
// does when a replica goes away. Each worker is one user and creates tasks one after the other,
// each with its own Idempotency-Key (the task's title is the key, so a duplicate would show as
// two tasks with one title). A connection error, a timeout, a 5xx or a 429 is retried with the
// same key and body on the next target (the other replica), which the worker then keeps using,
// as a balancer that took the failed one out would; a 201 ends the key. The log it writes is
// what `benchtool verify-creates` checks the database against.

// createRecord is one key the client attempted, as its log line says.
type createRecord struct {
	User     string
	Seq      int    // the key's place in its user's sequence: each began after the previous one's 201
	Key      string // also the task's title
	Status   int    // the final answer's status (201), 0 when none came
	TaskID   string // the 201's task id
	Attempts int
	Replayed bool // the 201 said Idempotent-Replayed: true
	Target   int  // the target that answered the 201
}

func (r createRecord) line() string {
	return fmt.Sprintf("%s\t%d\t%s\t%d\t%s\t%d\t%t\t%d", r.User, r.Seq, r.Key, r.Status, cmpOr(r.TaskID, "-"), r.Attempts, r.Replayed, r.Target)
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func parseRecord(line string) (createRecord, error) {
	f := strings.Split(line, "\t")
	if len(f) != 8 {
		return createRecord{}, fmt.Errorf("bad log line %q", line)
	}
	var r createRecord
	var err error
	r.User, r.Key, r.TaskID = f[0], f[2], f[4]
	if r.TaskID == "-" {
		r.TaskID = ""
	}
	for _, p := range []struct {
		dst *int
		s   string
	}{{&r.Seq, f[1]}, {&r.Status, f[3]}, {&r.Attempts, f[5]}, {&r.Target, f[7]}} {
		if *p.dst, err = strconv.Atoi(p.s); err != nil {
			return r, fmt.Errorf("bad log line %q: %w", line, err)
		}
	}
	r.Replayed = f[6] == "true"
	return r, nil
}

func readRecords(path string) ([]createRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []createRecord
	s := bufio.NewScanner(f)
	for s.Scan() {
		if s.Text() == "" {
			continue
		}
		r, err := parseRecord(s.Text())
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, s.Err()
}

// createStats counts what happened on the wire.
type createStats struct {
	requests, connErrors, status5xx, status429, other4xx, failovers, replayed int
	latencies                                                                 []time.Duration // of the 201s
}

func (s *createStats) add(o createStats) {
	s.requests += o.requests
	s.connErrors += o.connErrors
	s.status5xx += o.status5xx
	s.status429 += o.status429
	s.other4xx += o.other4xx
	s.failovers += o.failovers
	s.replayed += o.replayed
	s.latencies = append(s.latencies, o.latencies...)
}

// creator sends one user's creates.
type creator struct {
	client       *http.Client
	targets      []string
	token        string
	retryTimeout time.Duration
	backoff      time.Duration
}

// create sends POST /api/tasks with key until a 201, starting at targets[*cur] and moving to the
// next target after each failure; *cur is left at the target that answered. It gives up after
// retryTimeout (or a 4xx other than 429, which no retry can mend).
func (c *creator) create(ctx context.Context, cur *int, rec *createRecord, st *createStats) {
	body := fmt.Sprintf(`{"title":%q,"description":"bench/replicas.sh: an idempotent create","priority":"medium","tags":["replicas"]}`, rec.Key)
	deadline := time.Now().Add(c.retryTimeout)
	for {
		rec.Attempts++
		st.requests++
		t0 := time.Now()
		status, id, replayed, err := c.post(ctx, c.targets[*cur], body, rec.Key)
		switch {
		case err == nil && status == http.StatusCreated:
			rec.Status, rec.TaskID, rec.Replayed, rec.Target = status, id, replayed, *cur
			st.latencies = append(st.latencies, time.Since(t0))
			if replayed {
				st.replayed++
			}
			return
		case err != nil:
			st.connErrors++
		case status >= 500:
			st.status5xx++
		case status == http.StatusTooManyRequests:
			st.status429++
		default:
			st.other4xx++
			rec.Status = status
			return
		}
		rec.Status = status
		if time.Now().After(deadline) || ctx.Err() != nil {
			return
		}
		if len(c.targets) > 1 {
			*cur = (*cur + 1) % len(c.targets)
			st.failovers++
		}
		// Every target failed in a row: wait a little before going round again.
		if rec.Attempts%len(c.targets) == 0 {
			select {
			case <-ctx.Done():
			case <-time.After(c.backoff):
			}
		}
	}
}

func (c *creator) post(ctx context.Context, base, body, key string) (status int, id string, replayed bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/tasks", strings.NewReader(body))
	if err != nil {
		return 0, "", false, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, "", false, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil { // the answer broke off: we don't know whether it was created; retry
		return 0, "", false, err
	}
	if resp.StatusCode == http.StatusCreated {
		var t struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal(raw, &t); err != nil || t.ID == "" || t.Title != key {
			return resp.StatusCode, "", false, fmt.Errorf("201 without this key's task: %.200s", raw)
		}
		return resp.StatusCode, t.ID, resp.Header.Get("Idempotent-Replayed") == "true", nil
	}
	return resp.StatusCode, "", false, nil
}

// creates runs -c workers for -duration (each finishes the key it holds, retrying it for up to
// -retry-timeout), writes every attempted key to -out and prints one summary line.
func creates(args []string) error {
	fs := flag.NewFlagSet("creates", flag.ExitOnError)
	targetsFlag := fs.String("targets", "", "base URLs of the replicas, separated by commas")
	tokensPath := fs.String("tokens", "tokens.txt", "token file (benchtool tokens)")
	from := fs.Int("from", 0, "skip this many tokens: worker i is the user of token from+i")
	conc := fs.Int("c", 8, "workers, one user each")
	duration := fs.Duration("duration", 10*time.Second, "start no key after this long")
	retryTimeout := fs.Duration("retry-timeout", 30*time.Second, "give a key up after retrying it this long")
	backoff := fs.Duration("backoff", 50*time.Millisecond, "pause after every target failed once in a row")
	timeout := fs.Duration("timeout", 10*time.Second, "per request")
	prefix := fs.String("prefix", "k", "key prefix (the run's id)")
	out := fs.String("out", "creates.txt", "log: one line per attempted key")
	_ = fs.Parse(args)
	targets := strings.Split(*targetsFlag, ",")
	if *targetsFlag == "" {
		return errors.New("-targets is required")
	}
	for i := range targets {
		targets[i] = strings.TrimRight(strings.TrimSpace(targets[i]), "/")
	}
	toks, err := readTokens(*tokensPath)
	if err != nil {
		return err
	}
	if len(toks) < *from+*conc {
		return fmt.Errorf("%d tokens, %d needed (-from %d -c %d)", len(toks), *from+*conc, *from, *conc)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	client := &http.Client{Timeout: *timeout, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	end := time.Now().Add(*duration)
	started := time.Now()

	var (
		mu    sync.Mutex
		recs  []createRecord
		stats createStats
		wg    sync.WaitGroup
	)
	for w := range *conc {
		u := toks[*from+w]
		wg.Go(func() {
			c := &creator{client: client, targets: targets, token: u.token, retryTimeout: *retryTimeout, backoff: *backoff}
			cur := w % len(targets)
			var mine []createRecord
			var st createStats
			for seq := 1; time.Now().Before(end) && ctx.Err() == nil; seq++ {
				rec := createRecord{User: u.user, Seq: seq, Key: fmt.Sprintf("%s-%s-%d", *prefix, u.user, seq)}
				c.create(ctx, &cur, &rec, &st)
				mine = append(mine, rec)
				if rec.Status != http.StatusCreated {
					break // this user's sequence stops at a key that did not go through
				}
			}
			mu.Lock()
			recs = append(recs, mine...)
			stats.add(st)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(started)

	var b strings.Builder
	created, failed := 0, 0
	perTarget := make([]int, len(targets))
	for _, r := range recs {
		b.WriteString(r.line() + "\n")
		if r.Status == http.StatusCreated {
			created++
			perTarget[r.Target]++
		} else {
			failed++
		}
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o600); err != nil {
		return err
	}
	slices.Sort(stats.latencies)
	pct := func(p float64) float64 {
		if len(stats.latencies) == 0 {
			return 0
		}
		return float64(stats.latencies[int(p*float64(len(stats.latencies)-1))].Microseconds()) / 1000
	}
	fmt.Printf("CREATES keys=%d created=%d failed=%d requests=%d rps=%.1f p50_ms=%.2f p99_ms=%.2f conn_errors=%d status_5xx=%d status_429=%d other_4xx=%d failovers=%d replayed=%d per_target=%s elapsed_s=%.1f\n",
		len(recs), created, failed, stats.requests, float64(created)/elapsed.Seconds(), pct(0.50), pct(0.99),
		stats.connErrors, stats.status5xx, stats.status429, stats.other4xx, stats.failovers, stats.replayed,
		strings.Trim(strings.Join(strings.Fields(fmt.Sprint(perTarget)), ","), "[]"), elapsed.Seconds())
	if failed > 0 {
		return fmt.Errorf("%d key(s) got no 201 within -retry-timeout", failed)
	}
	return nil
}
