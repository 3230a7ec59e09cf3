package testdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"taskapi"
	"taskapi/internal/postgres"
)

// lease is the connection holding this process's lease on its template (see ensureTemplate).
// It stays open until the process exits, which ends the lease.
var lease *pgx.Conn

// templateName is the name of the template database for the current migrations: it carries
// a hash of them, so a changed schema gets a new template.
func templateName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(taskapi.Migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(taskapi.Migrations, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	return TemplatePrefix + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// ensureTemplate creates, once per version of the migrations, a migrated database to copy,
// and drops the templates of other versions that no running test process uses. Test
// processes running side by side (other packages, other worktrees) agree under an advisory
// lock, and each holds a lease on its template, a shared advisory lock on its name, for as
// long as it runs: a process of other migrations never drops a template that is in use.
func ensureTemplate(ctx context.Context) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", err
	}
	err = withTemplateLock(ctx, admin, func() error {
		if _, err := dropStaleTemplates(ctx, admin, name); err != nil {
			return err
		}
		if err := buildTemplate(ctx, admin, name); err != nil {
			return err
		}
		_, err := admin.Exec(ctx, "SELECT pg_advisory_lock_shared(hashtext('taskapi testdb template lease'), hashtext($1))", name)
		return err
	})
	if err != nil {
		admin.Close(ctx)
		return "", err
	}
	lease = admin
	return name, nil
}

// withTemplateLock runs fn holding the advisory lock under which templates are built and
// dropped (the same lock in every version of this package).
func withTemplateLock(ctx context.Context, conn *pgx.Conn, fn func() error) error {
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(hashtext('taskapi testdb template'))"); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(hashtext('taskapi testdb template'))")
	return fn()
}

// buildTemplate creates and migrates template name unless it exists. The caller holds the
// template lock.
func buildTemplate(ctx context.Context, admin *pgx.Conn, name string) error {
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return err
	}
	building := name + BuildingSuffix
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return err
	}
	if err := migrate(ctx, withDatabase(AdminURL(), building)); err != nil {
		return err
	}
	// Renamed only once complete, so a half-built template is never copied.
	_, err := admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s",
		pgx.Identifier{building}.Sanitize(), pgx.Identifier{name}.Sanitize()))
	return err
}

// dropStaleTemplates drops every template but current that no running test process holds a
// lease on (those of migrations since changed), and half-built ones (a build that died: the
// caller holds the template lock, so none is under way). A template that cannot be dropped
// (someone is connected to it) stays, for the leftover check to name. It returns the names
// it dropped.
func dropStaleTemplates(ctx context.Context, admin *pgx.Conn, current string) ([]string, error) {
	rows, _ := admin.Query(ctx, "SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2 ORDER BY datname",
		TemplatePrefix, current)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var dropped []string
	for _, name := range names {
		if !strings.HasSuffix(name, BuildingSuffix) {
			inUse, err := leased(ctx, admin, name)
			if err != nil {
				return dropped, err
			}
			if inUse {
				continue
			}
		}
		// Not WITH (FORCE): a session on the database means someone uses it.
		if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()); err == nil {
			dropped = append(dropped, name)
		}
	}
	return dropped, nil
}

// leased reports whether a running test process holds a lease on template name.
func leased(ctx context.Context, conn *pgx.Conn, name string) (bool, error) {
	var free bool
	err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock(hashtext('taskapi testdb template lease'), hashtext($1))", name).Scan(&free)
	if err != nil || !free {
		return !free, err
	}
	_, err = conn.Exec(ctx, "SELECT pg_advisory_unlock(hashtext('taskapi testdb template lease'), hashtext($1))", name)
	return false, err
}

func migrate(ctx context.Context, url string) error {
	quiet := slog.New(slog.DiscardHandler)
	pool, err := postgres.Open(ctx, postgres.Options{URL: url, URLVariable: "TEST_DATABASE_URL", ConnectTimeout: 10 * time.Second, Logger: quiet})
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := postgres.NewMigrator(pool, quiet)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Up(ctx)
}
