package postgres_test

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"taskapi/internal/postgres"
	"taskapi/internal/testdb"
)

// execModes are pgx's query exec modes; binary says whether a mode reads results in binary
// (the modes that describe statements first), where the pool's own codecs take over.
var execModes = map[string]bool{"cache_statement": true, "cache_describe": true, "describe_exec": true, "exec": false, "simple_protocol": false}

// row is what sqlc scans task columns into.
type row struct {
	ID        uuid.UUID
	NullID    *uuid.UUID
	At        time.Time
	NullAt    *time.Time
	Text      string
	NullText  *string
	Tags      []string
	NullTags  []string
	Echoed    uuid.UUID
	EchoedNil uuid.UUID
	// ids sent as *uuid.UUID (sqlc's nullable parameters), one set and one nil
	EchoedPtr    *uuid.UUID
	EchoedNilPtr *uuid.UUID
}

func (r *row) targets() []any {
	return []any{&r.ID, &r.NullID, &r.At, &r.NullAt, &r.Text, &r.NullText, &r.Tags, &r.NullTags, &r.Echoed, &r.EchoedNil, &r.EchoedPtr, &r.EchoedNilPtr}
}

// The pool's codecs read every value exactly as pgx's own would (same values, same zone,
// same nil and empty slices), in every exec mode; the errors pgx gives stay errors.
func TestPoolCodecsReadWhatPgxReads(t *testing.T) {
	url := testdb.URL(t)
	ctx := context.Background()
	id := uuid.MustParse("0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e")
	const query = `SELECT v.id, v.null_id, v.at, v.null_at, v.text, v.null_text, v.tags, v.null_tags, $1::uuid, $2::uuid, $3::uuid, $4::uuid
		FROM (VALUES
		  ('0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e'::uuid, NULL::uuid, '2026-11-26 12:00:00.123456+00'::timestamptz, NULL::timestamptz,
		   'plain'::text, NULL::text, '{}'::text[], NULL::text[]),
		  ('00000000-0000-0000-0000-000000000000', '0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e', '1999-12-31 23:59:59.999999+00', '2000-01-01 00:00:00+00',
		   '', '', '{a}', '{"", "b c", "é 日本 😀", "quote \" and \\ backslash"}'),
		  ('ffffffff-ffff-ffff-ffff-ffffffffffff', NULL, '1969-07-20 20:17:40.5-05', '0001-01-01 00:00:00+00',
		   'x', 'long ' || repeat('y', 5000), '{{a,b},{c,d}}', '[3:4]={x,y}'),
		  ('0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e', NULL, '294276-12-31 23:59:59.999999+00', '4713-01-01 00:00:00+00 BC',
		   'x', NULL, '{}', '{}')
		) AS v(id, null_id, at, null_at, text, null_text, tags, null_tags)`

	for mode, binary := range execModes {
		t.Run(mode, func(t *testing.T) {
			pool, err := postgres.Open(ctx, postgres.Options{URL: url, QueryExecMode: mode, ConnectTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			cfg, err := pgx.ParseConfig(url)
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = pool.Config().ConnConfig.DefaultQueryExecMode
			plain, err := pgx.ConnectConfig(ctx, cfg) // pgx's own codecs only
			if err != nil {
				t.Fatal(err)
			}
			defer plain.Close(ctx)

			read := func(q interface {
				Query(context.Context, string, ...any) (pgx.Rows, error)
			}) []row {
				rows, err := q.Query(ctx, query, id, uuid.Nil, &id, (*uuid.UUID)(nil))
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				var out []row
				for rows.Next() {
					var r row
					if err := rows.Scan(r.targets()...); err != nil {
						t.Fatal(err)
					}
					out = append(out, r)
				}
				if err := rows.Err(); err != nil {
					t.Fatal(err)
				}
				return out
			}
			got, want := read(pool), read(plain)
			if len(want) != 4 || !reflect.DeepEqual(got, want) {
				t.Errorf("pool read\n%+v\npgx reads\n%+v", got, want)
			}
			if got[0].Tags == nil || len(got[0].Tags) != 0 || got[0].NullTags != nil || got[0].Echoed != id || got[0].EchoedNil != uuid.Nil ||
				got[0].EchoedPtr == nil || *got[0].EchoedPtr != id || got[0].EchoedNilPtr != nil {
				t.Errorf("empty and NULL arrays or the echoed ids are wrong: %+v", got[0])
			}

			for _, bad := range []struct {
				sql    string
				target any
				pgx    bool // pgx's own codecs refuse it too
			}{
				{"SELECT 'infinity'::timestamptz", new(time.Time), true},
				{"SELECT '-infinity'::timestamptz", new(*time.Time), true},
				{"SELECT NULL::timestamptz", new(time.Time), true},
				{"SELECT '{a,NULL}'::text[]", new([]string), true},
				// pgx hands NULL to google/uuid's Scan, which ignores it and leaves the id as it
				// was; no NOT NULL column sends one, and a NULL there would be a bug to report.
				{"SELECT NULL::uuid", new(uuid.UUID), false},
			} {
				poolErr := pool.QueryRow(ctx, bad.sql).Scan(bad.target)
				pgxErr := plain.QueryRow(ctx, bad.sql).Scan(bad.target)
				if bad.pgx && (poolErr == nil || pgxErr == nil) {
					t.Errorf("%s into %T: pool %v, pgx %v; want errors from both", bad.sql, bad.target, poolErr, pgxErr)
				}
				if binary && poolErr == nil {
					t.Errorf("%s into %T: no error", bad.sql, bad.target)
				}
			}
		})
	}
}
