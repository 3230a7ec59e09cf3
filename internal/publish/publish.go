// Package publish sends the outbox's events (migration 7) to NATS JetStream for Phase V's
// consumers, as CloudEvents 1.0 in the structured JSON format: task events on
// <prefix>.task-events, reminders on <prefix>.reminders. Each event is published at least once:
// it is marked published in the database only after JetStream acknowledged it, in the
// transaction that claimed it, so a crash or an outage in between means it is sent again (with
// its id as Nats-Msg-Id, so JetStream drops the copy within its duplicate window).
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"taskapi/gen/db"
)

// Options say where to publish.
type Options struct {
	// URL is the NATS server (NATS_URL).
	URL string
	// Stream is the JetStream stream made to hold the subjects when none does (NATS_STREAM).
	Stream string
	// SubjectPrefix starts both subjects (NATS_SUBJECT_PREFIX, "taskapi").
	SubjectPrefix string
	// ConnectTimeout bounds the wait for NATS and the stream at start.
	ConnectTimeout time.Duration
	// Interval is how often the outbox is read for events not yet published (100 ms).
	Interval time.Duration
	Logger   *slog.Logger
}

// Publisher publishes the outbox's events; Run it.
type Publisher struct {
	pool     *pgxpool.Pool
	nc       *nats.Conn
	js       jetstream.JetStream
	stream   string
	subjects subjects
	logger   *slog.Logger
	interval time.Duration
	wake     chan struct{}
}

type subjects struct{ tasks, reminders string }

// batch is how many events one transaction claims and publishes.
const batch = 500

// ackTimeout bounds the wait for JetStream's acknowledgement of a message.
const ackTimeout = 5 * time.Second

// Connect connects to NATS and makes sure a stream holds both subjects: one that already does
// (whatever its name), else opts.Stream, made or given the subjects it lacks.
func Connect(ctx context.Context, pool *pgxpool.Pool, opts Options) (*Publisher, error) {
	if opts.Interval == 0 {
		opts.Interval = 100 * time.Millisecond
	}
	if opts.ConnectTimeout == 0 {
		opts.ConnectTimeout = 30 * time.Second
	}
	nc, err := nats.Connect(opts.URL, nats.Name("taskapi"), nats.Timeout(opts.ConnectTimeout),
		nats.RetryOnFailedConnect(true), nats.MaxReconnects(-1), nats.ReconnectWait(time.Second))
	if err != nil {
		return nil, fmt.Errorf("NATS_URL: %w", err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(ackTimeout), jetstream.WithPublishAsyncMaxPending(batch))
	if err != nil {
		nc.Close()
		return nil, err
	}
	p := &Publisher{pool: pool, nc: nc, js: js, logger: opts.Logger, interval: opts.Interval, wake: make(chan struct{}, 1),
		subjects: subjects{tasks: opts.SubjectPrefix + ".task-events", reminders: opts.SubjectPrefix + ".reminders"}}
	ctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	for {
		p.stream, err = p.ensureStream(ctx, opts.Stream)
		if err == nil {
			return p, nil
		}
		var refused *jetstream.APIError
		if errors.As(err, &refused) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) || ctx.Err() != nil {
			nc.Close()
			return nil, fmt.Errorf("NATS JetStream at %s: %w", opts.URL, err)
		}
		select { // not connected yet: it retries
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureStream returns the stream that holds both subjects, making it so when none does.
func (p *Publisher) ensureStream(ctx context.Context, name string) (string, error) {
	all := []string{p.subjects.tasks, p.subjects.reminders}
	var holders []string
	for _, s := range all {
		holder, err := p.js.StreamNameBySubject(ctx, s)
		if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
			return "", err
		}
		holders = append(holders, holder)
	}
	if holders[0] != "" && holders[0] == holders[1] {
		return holders[0], nil
	}
	stream, err := p.js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = p.js.CreateStream(ctx, jetstream.StreamConfig{
			Name:        name,
			Description: "taskapi's events: task changes and reminders, as CloudEvents",
			Subjects:    all,
			Storage:     jetstream.FileStorage,
			Duplicates:  2 * time.Minute,
		})
		if err != nil {
			return "", fmt.Errorf("making the stream %s for %s and %s: %w", name, all[0], all[1], err)
		}
		p.log().Info("made the NATS stream", "stream", name, "subjects", all)
		return name, nil
	}
	if err != nil {
		return "", err
	}
	cfg := stream.CachedInfo().Config
	for i, s := range all {
		if holders[i] != name {
			cfg.Subjects = append(cfg.Subjects, s)
		}
	}
	if _, err := p.js.UpdateStream(ctx, cfg); err != nil {
		return "", fmt.Errorf("adding %s and %s to the stream %s: %w", all[0], all[1], name, err)
	}
	p.log().Info("added the subjects to the NATS stream", "stream", name, "subjects", cfg.Subjects)
	return name, nil
}

// StreamName is the name of the stream the events go to ("" for no publisher).
func (p *Publisher) StreamName() string {
	if p == nil {
		return ""
	}
	return p.stream
}

// Close disconnects from NATS.
func (p *Publisher) Close() { p.nc.Close() }

// Notify makes the publisher read the outbox now rather than at its next tick.
func (p *Publisher) Notify() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Run publishes the outbox's events until ctx ends. Every replica runs it; each batch is
// claimed by one of them.
func (p *Publisher) Run(ctx context.Context) {
	ticker := time.NewTicker(p.interval)
	defer ticker.Stop()
	failing := false
	for {
		n, err := p.PublishPending(ctx)
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			p.log().Warn("publishing events to NATS failed; retrying", "err", err)
			failing = true
		case err == nil && failing:
			p.log().Info("publishing events to NATS again")
			failing = false
		}
		if n == batch && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-p.wake:
			// One batch serves many writes: under load, a batch at most every minGap.
			select {
			case <-ctx.Done():
				return
			case <-time.After(minGap):
			}
		}
	}
}

// minGap is the least time between two batches started by writes.
const minGap = 20 * time.Millisecond

// PublishPending publishes a batch of the events not yet published, and marks those JetStream
// acknowledged; it returns how many it marked.
func (p *Publisher) PublishPending(ctx context.Context) (int, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	q := db.New(tx)
	rows, err := q.SweepUnpublished(ctx, batch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	futures := make([]jetstream.PubAckFuture, 0, len(rows))
	var failed error
	for _, r := range rows {
		msg, err := p.message(r)
		if err != nil {
			return 0, err
		}
		f, err := p.js.PublishMsgAsync(msg, jetstream.WithMsgID(msg.Header.Get(jetstream.MsgIDHeader)), jetstream.WithExpectStream(p.stream))
		if err != nil {
			failed = err
			break
		}
		futures = append(futures, f)
	}
	var users []string
	var ids []int64
	for i, f := range futures {
		select {
		case <-f.Ok():
			users, ids = append(users, rows[i].UserID), append(ids, rows[i].ID)
		case err := <-f.Err():
			failed = err
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if len(ids) > 0 {
		if err := q.SweepMarkPublished(ctx, db.SweepMarkPublishedParams{UserIds: users, Ids: ids}); err != nil {
			return 0, err
		}
		if err := tx.Commit(ctx); err != nil {
			return 0, err
		}
	}
	return len(ids), failed
}

func (p *Publisher) log() *slog.Logger {
	if p.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.logger
}

// message is an event as a NATS message: a CloudEvent in the structured JSON format.
func (p *Publisher) message(r *db.SweepUnpublishedRow) (*nats.Msg, error) {
	subject := p.subjects.tasks
	if r.Type == "reminder.due" {
		subject = p.subjects.reminders
	}
	data, err := cloudEvent(r)
	if err != nil {
		return nil, fmt.Errorf("event %d: %w", r.ID, err)
	}
	msg := nats.NewMsg(subject)
	msg.Data = data
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	msg.Header.Set(jetstream.MsgIDHeader, strconv.FormatInt(r.ID, 10))
	return msg, nil
}
