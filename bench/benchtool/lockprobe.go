package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// lockProbe writes to one task every -every until SIGTERM or SIGINT, and then prints how many
// writes it made and the longest one took: what a request writing to tasks would have waited
// behind a lock while something (a migration) ran. The write changes nothing (title = title).
func lockProbe(args []string) error {
	fs := flag.NewFlagSet("lockprobe", flag.ExitOnError)
	db := fs.String("db", "", "database URL")
	every := fs.Duration("every", 20*time.Millisecond, "time between writes")
	_ = fs.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	conn, err := pgx.Connect(context.Background(), *db)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var user, id string
	if err := conn.QueryRow(ctx, "SELECT user_id, id::text FROM tasks LIMIT 1").Scan(&user, &id); err != nil {
		return fmt.Errorf("a task to write to: %w", err)
	}
	var writes int
	var longest time.Duration
	var longestAt time.Time
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		start := time.Now()
		// Not ctx: a write in progress when the signal comes is waited for, and counted.
		if _, err := conn.Exec(context.Background(), "UPDATE tasks SET title = title WHERE user_id = $1 AND id = $2", user, id); err != nil {
			return err
		}
		writes++
		if took := time.Since(start); took > longest {
			longest, longestAt = took, start
		}
		select {
		case <-ctx.Done():
			fmt.Printf("writes %d longest %.1f ms at %s\n", writes, float64(longest.Microseconds())/1000, longestAt.UTC().Format("15:04:05.000"))
			if writes == 0 {
				return errors.New("no write made")
			}
			return nil
		case <-tick.C:
		}
	}
}
