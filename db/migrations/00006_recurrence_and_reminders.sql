-- +goose NO TRANSACTION
-- +goose Up
-- Recurring tasks and reminders. Each statement runs on its own so that none holds a lock on a
-- large table for long: new columns with constant defaults are a catalog change (no rewrite),
-- constraints are added NOT VALID (instant) and then validated (a scan that lets reads and
-- writes go on), indexes are built CONCURRENTLY. Every statement can be run again after a
-- failure halfway (IF NOT EXISTS, DROP ... IF EXISTS first).

-- recurrence: an RRULE value (internal/recurrence validates it); timezone: the IANA zone it is
-- expanded in; series_id: shared by the occurrences of one recurring task (the first one's id);
-- occurrence: its number in the series, from 1 (COUNT counts these, and the next occurrence of
-- number n is unique: completing n twice cannot make two); remind_at: when to remind.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS recurrence text;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS timezone text NOT NULL DEFAULT 'UTC';
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS series_id uuid;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS occurrence integer NOT NULL DEFAULT 1;
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS remind_at timestamptz;
-- The next due dates of a recurring task's series (as many as the service works out ahead,
-- internal/recurrence), so that completing an occurrence on time makes the next one in the
-- same single statement as any other write; NULL when not known (the service then works it
-- out when the task is completed).
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS upcoming timestamptz[];

ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_recurrence_length;
ALTER TABLE tasks ADD CONSTRAINT tasks_recurrence_length CHECK (octet_length(recurrence) <= 256) NOT VALID;
ALTER TABLE tasks VALIDATE CONSTRAINT tasks_recurrence_length;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_timezone_length;
ALTER TABLE tasks ADD CONSTRAINT tasks_timezone_length CHECK (char_length(timezone) BETWEEN 1 AND 64) NOT VALID;
ALTER TABLE tasks VALIDATE CONSTRAINT tasks_timezone_length;
-- A recurrence is expanded from the due date, so a recurring task has one.
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_recurrence_needs_due_date;
ALTER TABLE tasks ADD CONSTRAINT tasks_recurrence_needs_due_date CHECK (recurrence IS NULL OR due_date IS NOT NULL) NOT VALID;
ALTER TABLE tasks VALIDATE CONSTRAINT tasks_recurrence_needs_due_date;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_series_needs_recurrence;
ALTER TABLE tasks ADD CONSTRAINT tasks_series_needs_recurrence CHECK (series_id IS NULL OR recurrence IS NOT NULL) NOT VALID;
ALTER TABLE tasks VALIDATE CONSTRAINT tasks_series_needs_recurrence;

-- The next occurrence is made in the transaction that completes one, with
-- ON CONFLICT DO NOTHING against this index: of concurrent or repeated completions of
-- occurrence n, exactly one makes occurrence n + 1.
DROP INDEX CONCURRENTLY IF EXISTS tasks_series_occurrence;
CREATE UNIQUE INDEX CONCURRENTLY tasks_series_occurrence ON tasks (user_id, series_id, occurrence) WHERE series_id IS NOT NULL;

-- reminder_open: the task is open and has a reminder (the trigger keeps it so). The reminders
-- poll (every few seconds from every open tab) reads its page off an index of only those tasks.
-- The index names reminder_open, not completed: an update that changes an indexed column cannot
-- be HOT, and completing or reopening a task without a reminder (most of them) leaves
-- reminder_open as it was, so it stays a HOT update that touches no index.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS reminder_open boolean NOT NULL DEFAULT false;
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_remind;
CREATE INDEX CONCURRENTLY tasks_user_remind ON tasks (user_id, remind_at, id) WHERE reminder_open;

-- The trigger of migration 4, with the new fields: they move updated_at like the others, and
-- the series follows the recurrence (a new recurring task starts a series of its own; a task
-- whose recurrence is removed leaves its series, which ends it).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tasks_derive_timestamps() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.tags IS DISTINCT FROM OLD.tags THEN
        IF cardinality(NEW.tags) > 10 THEN
            RAISE EXCEPTION 'a task has at most 10 tags' USING ERRCODE = 'check_violation';
        END IF;
        FOR i IN 1 .. coalesce(cardinality(NEW.tags), 0) LOOP  -- NULL tags: the NOT NULL says so
            IF NEW.tags[i] IS NULL OR char_length(NEW.tags[i]) NOT BETWEEN 1 AND 30 OR NEW.tags[i] = ANY (NEW.tags[1:i-1]) THEN
                RAISE EXCEPTION 'tags must be distinct strings of 1 to 30 characters' USING ERRCODE = 'check_violation';
            END IF;
        END LOOP;
    END IF;
    IF NOT NEW.completed THEN
        NEW.completed_at := NULL;
    ELSIF TG_OP = 'INSERT' OR NOT OLD.completed THEN
        NEW.completed_at := now();
    ELSE
        NEW.completed_at := OLD.completed_at;
    END IF;
    IF NEW.recurrence IS NULL THEN
        NEW.series_id := NULL;
        NEW.occurrence := 1;
    ELSIF NEW.series_id IS NULL THEN
        NEW.series_id := NEW.id;
    END IF;
    NEW.reminder_open := NEW.remind_at IS NOT NULL AND NOT NEW.completed;
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := now();
        NEW.updated_at := now();
        NEW.version := 1;
        RETURN NEW;
    END IF;
    IF (NEW.title, NEW.description, NEW.completed, NEW.priority, NEW.due_date, NEW.tags,
        NEW.recurrence, NEW.timezone, NEW.remind_at)
       IS DISTINCT FROM
       (OLD.title, OLD.description, OLD.completed, OLD.priority, OLD.due_date, OLD.tags,
        OLD.recurrence, OLD.timezone, OLD.remind_at) THEN
        NEW.updated_at := now();
    ELSE
        NEW.updated_at := OLD.updated_at;
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tasks_derive_timestamps() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.tags IS DISTINCT FROM OLD.tags THEN
        IF cardinality(NEW.tags) > 10 THEN
            RAISE EXCEPTION 'a task has at most 10 tags' USING ERRCODE = 'check_violation';
        END IF;
        FOR i IN 1 .. coalesce(cardinality(NEW.tags), 0) LOOP  -- NULL tags: the NOT NULL says so
            IF NEW.tags[i] IS NULL OR char_length(NEW.tags[i]) NOT BETWEEN 1 AND 30 OR NEW.tags[i] = ANY (NEW.tags[1:i-1]) THEN
                RAISE EXCEPTION 'tags must be distinct strings of 1 to 30 characters' USING ERRCODE = 'check_violation';
            END IF;
        END LOOP;
    END IF;
    IF NOT NEW.completed THEN
        NEW.completed_at := NULL;
    ELSIF TG_OP = 'INSERT' OR NOT OLD.completed THEN
        NEW.completed_at := now();
    ELSE
        NEW.completed_at := OLD.completed_at;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := now();
        NEW.updated_at := now();
        NEW.version := 1;
        RETURN NEW;
    END IF;
    IF (NEW.title, NEW.description, NEW.completed, NEW.priority, NEW.due_date, NEW.tags)
       IS DISTINCT FROM
       (OLD.title, OLD.description, OLD.completed, OLD.priority, OLD.due_date, OLD.tags) THEN
        NEW.updated_at := now();
    ELSE
        NEW.updated_at := OLD.updated_at;
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_remind;
DROP INDEX CONCURRENTLY IF EXISTS tasks_series_occurrence;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_series_needs_recurrence;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_recurrence_needs_due_date;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_timezone_length;
ALTER TABLE tasks DROP CONSTRAINT IF EXISTS tasks_recurrence_length;
ALTER TABLE tasks DROP COLUMN IF EXISTS reminder_open;
ALTER TABLE tasks DROP COLUMN IF EXISTS upcoming;
ALTER TABLE tasks DROP COLUMN IF EXISTS remind_at;
ALTER TABLE tasks DROP COLUMN IF EXISTS occurrence;
ALTER TABLE tasks DROP COLUMN IF EXISTS series_id;
ALTER TABLE tasks DROP COLUMN IF EXISTS timezone;
ALTER TABLE tasks DROP COLUMN IF EXISTS recurrence;
