package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// What `benchtool verify-creates` reads from the database for the client's users.
type (
	dbTask  struct{ User, ID, Title string }
	dbKey   struct{ User, Key, TaskID string } // idempotency_keys
	dbEvent struct {
		User, Type, TaskID string
		ID                 int64
	}
)

// createsReport is what the database says of the client's keys; every count but Keys and
// Tasks must be 0.
type createsReport struct {
	Keys, Tasks int
	// Unanswered: keys the client never got a 201 for (it gave up).
	Unanswered int
	// Lost: keys without a task; Duplicated: keys with more than one; Stray: the users' tasks
	// whose title is no key the client sent.
	Lost, Duplicated, Stray int
	// WrongID: the 201's task id is not the task the database holds for the key; KeyRows: keys
	// without exactly one idempotency_keys row naming their task.
	WrongID, KeyRows int
	// NoCreatedEvent, ExtraCreatedEvents: tasks without a task.created event, or with more
	// than one; OtherEvents: the users' events of another type or for a task not theirs.
	NoCreatedEvent, ExtraCreatedEvents, OtherEvents int
	// OutOfOrder: a user's created events whose ids do not rise with the client's sequence
	// (each create began after the previous one's 201, so it committed after it).
	OutOfOrder int
	// Examples names a few of the problems.
	Examples []string
}

func (r createsReport) ok() bool {
	return r.Unanswered+r.Lost+r.Duplicated+r.Stray+r.WrongID+r.KeyRows+r.NoCreatedEvent+r.ExtraCreatedEvents+r.OtherEvents+r.OutOfOrder == 0
}

func (r *createsReport) example(format string, a ...any) {
	if len(r.Examples) < 5 {
		r.Examples = append(r.Examples, fmt.Sprintf(format, a...))
	}
}

// checkCreates compares the client's log with the users' tasks, idempotency keys and events.
func checkCreates(recs []createRecord, tasks []dbTask, keys []dbKey, events []dbEvent) createsReport {
	r := createsReport{Keys: len(recs), Tasks: len(tasks)}
	byTitle := map[string][]dbTask{}
	for _, t := range tasks {
		byTitle[t.User+"\x00"+t.Title] = append(byTitle[t.User+"\x00"+t.Title], t)
	}
	keyRows := map[string][]dbKey{}
	for _, k := range keys {
		keyRows[k.User+"\x00"+k.Key] = append(keyRows[k.User+"\x00"+k.Key], k)
	}
	created := map[string][]dbEvent{} // task id -> its task.created events
	taskIDs := map[string]bool{}
	for _, t := range tasks {
		taskIDs[t.ID] = true
	}
	for _, e := range events {
		if e.Type == "task.created" && taskIDs[e.TaskID] {
			created[e.TaskID] = append(created[e.TaskID], e)
			continue
		}
		r.OtherEvents++
		r.example("event %d (%s) of %s for task %s", e.ID, e.Type, e.User, e.TaskID)
	}

	sent := map[string]bool{}
	byUser := map[string][]createRecord{}
	for _, rec := range recs {
		sent[rec.User+"\x00"+rec.Key] = true
		byUser[rec.User] = append(byUser[rec.User], rec)
		if rec.Status != http.StatusCreated {
			r.Unanswered++
			r.example("key %s: no 201 (last status %d after %d attempts)", rec.Key, rec.Status, rec.Attempts)
		}
		found := byTitle[rec.User+"\x00"+rec.Key]
		switch {
		case len(found) == 0:
			r.Lost++
			r.example("key %s: no task", rec.Key)
			continue
		case len(found) > 1:
			r.Duplicated++
			r.example("key %s: %d tasks", rec.Key, len(found))
		}
		task := found[0]
		if rec.Status == http.StatusCreated && rec.TaskID != task.ID {
			r.WrongID++
			r.example("key %s: the 201 named %s, the database holds %s", rec.Key, rec.TaskID, task.ID)
		}
		if kr := keyRows[rec.User+"\x00"+rec.Key]; len(kr) != 1 || kr[0].TaskID != task.ID {
			r.KeyRows++
			r.example("key %s: idempotency_keys rows %v, task %s", rec.Key, kr, task.ID)
		}
	}
	for _, t := range tasks {
		if !sent[t.User+"\x00"+t.Title] {
			r.Stray++
			r.example("task %s of %s (%q): no key sent", t.ID, t.User, t.Title)
		}
		switch n := len(created[t.ID]); {
		case n == 0:
			r.NoCreatedEvent++
			r.example("task %s: no task.created event", t.ID)
		case n > 1:
			r.ExtraCreatedEvents += n - 1
			r.example("task %s: %d task.created events", t.ID, n)
		}
	}
	for user, rs := range byUser {
		slices.SortFunc(rs, func(a, b createRecord) int { return cmp.Compare(a.Seq, b.Seq) })
		last, lastKey := int64(-1), ""
		for _, rec := range rs {
			found := byTitle[user+"\x00"+rec.Key]
			if len(found) == 0 || len(created[found[0].ID]) == 0 {
				continue
			}
			id := created[found[0].ID][0].ID
			if id <= last {
				r.OutOfOrder++
				r.example("%s: event %d of key %s is not after event %d of key %s", user, id, rec.Key, last, lastKey)
			}
			last, lastKey = id, rec.Key
		}
	}
	return r
}

func (r createsReport) markdown() string {
	verdict := "OK: nothing lost, nothing duplicated"
	if !r.ok() {
		verdict = "FAILED"
	}
	s := fmt.Sprintf("- creates verified by SQL: %s. %d keys attempted, %d tasks for their users; "+
		"no 201: %d, lost (key without task): %d, duplicated (key with >1 task): %d, stray (task without a key sent): %d, "+
		"201's id != the key's task: %d, idempotency_keys rows wrong: %d; "+
		"tasks without a task.created event: %d, extra task.created events: %d, other events: %d, "+
		"created events out of commit order (per user, against the client's sequence): %d\n",
		verdict, r.Keys, r.Tasks, r.Unanswered, r.Lost, r.Duplicated, r.Stray, r.WrongID, r.KeyRows,
		r.NoCreatedEvent, r.ExtraCreatedEvents, r.OtherEvents, r.OutOfOrder)
	for _, e := range r.Examples {
		s += "  - " + e + "\n"
	}
	return s
}

// streamReport compares the outbox's event ids with the Nats-Msg-Id of the stream's messages.
type streamReport struct {
	Events, Messages int
	// Missing: events with no message; Duplicated: messages beyond the first for an id;
	// Unknown: messages whose id is no event; NoID: messages without Nats-Msg-Id.
	Missing, Duplicated, Unknown, NoID int
}

func (r streamReport) ok() bool { return r.Missing+r.Duplicated+r.Unknown+r.NoID == 0 }

func checkStream(eventIDs []int64, msgIDs []string) streamReport {
	r := streamReport{Events: len(eventIDs), Messages: len(msgIDs)}
	seen := map[string]int{}
	for _, id := range msgIDs {
		if id == "" {
			r.NoID++
			continue
		}
		seen[id]++
	}
	events := map[string]bool{}
	for _, id := range eventIDs {
		s := strconv.FormatInt(id, 10)
		events[s] = true
		if seen[s] == 0 {
			r.Missing++
		}
	}
	for id, n := range seen {
		if !events[id] {
			r.Unknown += n
			continue
		}
		r.Duplicated += n - 1
	}
	return r
}

// verifyCreates checks the database (and the NATS stream) after a run of `benchtool creates`,
// prints the result as markdown list items and fails when anything was lost or duplicated.
func verifyCreates(args []string) error {
	fs := flag.NewFlagSet("verify-creates", flag.ExitOnError)
	dbURL := fs.String("db", "", "the database (a direct URL)")
	logPath := fs.String("log", "creates.txt", "the log of benchtool creates")
	natsURL := fs.String("nats", "", "NATS server (empty: no stream check)")
	stream := fs.String("stream", "", "the JetStream stream the events went to")
	wait := fs.Duration("publish-timeout", time.Minute, "how long to wait for every event to be published")
	_ = fs.Parse(args)
	recs, err := readRecords(*logPath)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return errors.New(*logPath + ": no keys")
	}
	var users []string
	for _, r := range recs {
		if !slices.Contains(users, r.User) {
			users = append(users, r.User)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *wait+time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)

	tasks, err := collect(ctx, conn, `SELECT user_id, id::text, title FROM tasks WHERE user_id = ANY($1)`, users,
		func(row pgx.CollectableRow) (t dbTask, err error) {
			err = row.Scan(&t.User, &t.ID, &t.Title)
			return t, err
		})
	if err != nil {
		return err
	}
	keys, err := collect(ctx, conn, `SELECT user_id, key, coalesce(task_id::text, '') FROM idempotency_keys WHERE user_id = ANY($1)`, users,
		func(row pgx.CollectableRow) (k dbKey, err error) {
			err = row.Scan(&k.User, &k.Key, &k.TaskID)
			return k, err
		})
	if err != nil {
		return err
	}
	events, err := collect(ctx, conn, `SELECT user_id, id, type, task_id::text FROM task_events WHERE user_id = ANY($1)`, users,
		func(row pgx.CollectableRow) (e dbEvent, err error) {
			err = row.Scan(&e.User, &e.ID, &e.Type, &e.TaskID)
			return e, err
		})
	if err != nil {
		return err
	}
	rep := checkCreates(recs, tasks, keys, events)
	fmt.Print(rep.markdown())
	failed := !rep.ok()

	if *natsURL != "" && *stream != "" {
		sr, waited, err := verifyStream(ctx, conn, *natsURL, *stream, *wait)
		if err != nil {
			return err
		}
		verdict := "OK: every event once"
		if !sr.ok() {
			verdict, failed = "FAILED", true
		}
		fmt.Printf("- NATS JetStream (stream %s, all the run's events, after %.1f s for the last to be published): %s. "+
			"%d events in task_events, %d messages; events without a message: %d, messages beyond the first per Nats-Msg-Id: %d, "+
			"messages naming no event: %d, without Nats-Msg-Id: %d\n",
			*stream, waited.Seconds(), verdict, sr.Events, sr.Messages, sr.Missing, sr.Duplicated, sr.Unknown, sr.NoID)
	}
	if failed {
		return errors.New("verification failed")
	}
	return nil
}

func collect[T any](ctx context.Context, conn *pgx.Conn, sql string, users []string, scan pgx.RowToFunc[T]) ([]T, error) {
	rows, err := conn.Query(ctx, sql, users)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scan)
}

// verifyStream waits until the outbox has nothing left to publish, then reads every message of
// the stream and compares their Nats-Msg-Id with the outbox's event ids.
func verifyStream(ctx context.Context, conn *pgx.Conn, url, stream string, wait time.Duration) (streamReport, time.Duration, error) {
	start := time.Now()
	for {
		var pending int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM task_events WHERE NOT published`).Scan(&pending); err != nil {
			return streamReport{}, 0, err
		}
		if pending == 0 {
			break
		}
		if time.Since(start) > wait {
			return streamReport{}, 0, fmt.Errorf("%d event(s) still unpublished after %s", pending, wait)
		}
		time.Sleep(200 * time.Millisecond)
	}
	waited := time.Since(start)
	var ids []int64
	rows, err := conn.Query(ctx, `SELECT id FROM task_events`)
	if err != nil {
		return streamReport{}, 0, err
	}
	if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return streamReport{}, 0, err
	}

	nc, err := nats.Connect(url)
	if err != nil {
		return streamReport{}, 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return streamReport{}, 0, err
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return streamReport{}, 0, fmt.Errorf("stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return streamReport{}, 0, err
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return streamReport{}, 0, err
	}
	var msgIDs []string
	for uint64(len(msgIDs)) < info.State.Msgs {
		batch, err := cons.FetchNoWait(500)
		if err != nil {
			return streamReport{}, 0, err
		}
		n := 0
		for m := range batch.Messages() {
			msgIDs = append(msgIDs, m.Headers().Get(jetstream.MsgIDHeader))
			n++
		}
		if err := batch.Error(); err != nil {
			return streamReport{}, 0, err
		}
		if n == 0 {
			if ctx.Err() != nil {
				return streamReport{}, 0, ctx.Err()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return checkStream(ids, msgIDs), waited, nil
}

// natsDeleteStream removes the run's stream (bench/replicas.sh's cleanup).
func natsDeleteStream(args []string) error {
	fs := flag.NewFlagSet("nats-delete-stream", flag.ExitOnError)
	url := fs.String("nats", "nats://127.0.0.1:4222", "NATS server")
	stream := fs.String("stream", "", "the stream")
	_ = fs.Parse(args)
	if !strings.HasPrefix(*stream, "BENCH_") {
		return errors.New("-stream must be a bench stream (BENCH_...)")
	}
	nc, err := nats.Connect(*url, nats.Timeout(5*time.Second))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, *stream); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return err
	}
	return nil
}
