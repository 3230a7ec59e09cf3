package postgres_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"taskapi/internal/postgres"
	"taskapi/internal/testdb"
)

// Ids go to and come from PostgreSQL as google/uuid's UUID, NULL as a nil *UUID, in every
// exec mode (binary where the mode allows it, text in the simple protocol).
func TestUUIDsRoundTripInEveryExecMode(t *testing.T) {
	url := testdb.URL(t)
	id := uuid.MustParse("0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e")
	// binary: the modes that describe statements first and so read results in binary.
	for mode, binary := range map[string]bool{"cache_statement": true, "cache_describe": true, "describe_exec": true, "exec": false, "simple_protocol": false} {
		t.Run(mode, func(t *testing.T) {
			pool, err := postgres.Open(context.Background(), postgres.Options{
				URL: url, QueryExecMode: mode, ConnectTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()

			var got, echoed uuid.UUID
			var null, present *uuid.UUID
			var text string
			err = pool.QueryRow(context.Background(), "SELECT $1::uuid, $1::uuid::text, NULL::uuid, $1::uuid, $2::uuid",
				id, uuid.Nil).Scan(&got, &text, &null, &present, &echoed)
			if err != nil {
				t.Fatal(err)
			}
			if got != id || text != id.String() || null != nil || present == nil || *present != id || echoed != uuid.Nil {
				t.Errorf("got %v, text %q, null %v, present %v, nil %v; want %v", got, text, null, present, echoed, id)
			}
			// (In text, google/uuid's own Scan takes NULL as a no-op; no NOT NULL column sends one.)
			if err := pool.QueryRow(context.Background(), "SELECT NULL::uuid").Scan(&got); binary && err == nil {
				t.Error("NULL scanned into a uuid.UUID without an error")
			}
		})
	}
}
