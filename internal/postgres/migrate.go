package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"taskapi"
)

// Migrator applies the embedded goose migrations.
type Migrator struct {
	provider *goose.Provider
	close    func() error
}

// NewMigrator returns a Migrator over pool. Close it when done.
func NewMigrator(pool *pgxpool.Pool, logger *slog.Logger) (*Migrator, error) {
	migrations, err := fs.Sub(taskapi.Migrations, "db/migrations")
	if err != nil {
		return nil, err
	}
	// Several replicas may start at once; a session advisory lock lets one migrate while the
	// others wait.
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDBFromPool(pool)
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations,
		goose.WithSessionLocker(locker), goose.WithSlog(logger), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Migrator{provider: provider, close: db.Close}, nil
}

// Close releases the migrator's database handle (not the pool).
func (m *Migrator) Close() error { return m.close() }

// HasPending reports whether a migration is still to be applied (one query, no lock).
func (m *Migrator) HasPending(ctx context.Context) (bool, error) { return m.provider.HasPending(ctx) }

// Up applies every pending migration. It takes the migration lock only when something is
// pending, so a restart with an up-to-date schema costs one query.
func (m *Migrator) Up(ctx context.Context) error {
	pending, err := m.provider.HasPending(ctx)
	if err != nil || !pending {
		return err
	}
	_, err = m.provider.Up(ctx)
	return err
}

// UpByOne applies the next pending migration, if any (bench/migrations.sh times each).
func (m *Migrator) UpByOne(ctx context.Context) error {
	_, err := m.provider.UpByOne(ctx)
	if errors.Is(err, goose.ErrNoNextVersion) {
		return nil
	}
	return err
}

// Down rolls back the latest migration.
func (m *Migrator) Down(ctx context.Context) error {
	_, err := m.provider.Down(ctx)
	return err
}

// Status writes one line per migration: version, state and when it was applied.
func (m *Migrator) Status(ctx context.Context, w io.Writer) error {
	statuses, err := m.provider.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range statuses {
		applied := "-"
		if !s.AppliedAt.IsZero() {
			applied = s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		fmt.Fprintf(w, "%05d  %-8s  %-20s  %s\n", s.Source.Version, s.State, applied, s.Source.Path)
	}
	return nil
}
