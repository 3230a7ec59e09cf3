package testdb

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
)

// A template of other migrations is dropped unless a running test process holds a lease on
// it; the current one stays.
func TestStaleTemplatesAreDropped(t *testing.T) {
	ctx := context.Background()
	URL(t) // the current template exists, leased by this process
	current, err := templateName()
	if err != nil {
		t.Fatal(err)
	}
	admin := connectAdmin(t)
	t.Cleanup(func() { admin.Close(ctx) })
	stale, leasedByOther := TemplatePrefix+"stale_probe", TemplatePrefix+"leased_probe"
	for _, name := range []string{stale, leasedByOther} {
		drop := func() { admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)") }
		drop()
		t.Cleanup(drop)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	other := connectAdmin(t) // another test process, holding its template's lease
	t.Cleanup(func() { other.Close(ctx) })
	if _, err := other.Exec(ctx, "SELECT pg_advisory_lock_shared(hashtext('taskapi testdb template lease'), hashtext($1))", leasedByOther); err != nil {
		t.Fatal(err)
	}

	var dropped []string
	if err := withTemplateLock(ctx, admin, func() (err error) {
		dropped, err = dropStaleTemplates(ctx, admin, current)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(dropped, stale) || slices.Contains(dropped, leasedByOther) || slices.Contains(dropped, current) {
		t.Errorf("dropped %v; want %s, not %s or %s", dropped, stale, leasedByOther, current)
	}
	rows, _ := admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname = ANY ($1)", []string{stale, leasedByOther, current})
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	want := []string{leasedByOther, current}
	slices.Sort(left)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("templates after the sweep: %v", left)
	}
}
