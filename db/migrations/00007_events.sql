-- +goose NO TRANSACTION
-- +goose Up
-- The outbox: one row per change to a task, written in the transaction that makes the change,
-- read by the change feed (GET /api/changes), the event streams (GET /api/events) and the
-- publisher to NATS. Statements on their own, re-runnable, as in migration 6.

-- An event's id is its place in its user's commit order: the trigger below takes it when the
-- transaction commits, holding a lock on the user, so a reader that sees an event of a user
-- has seen every earlier one of that user, and no later commit can slip in below it.
CREATE SEQUENCE IF NOT EXISTS task_events_id;
CREATE TABLE IF NOT EXISTS task_events (
    user_id   text        NOT NULL,
    id        bigint      NOT NULL,
    type      text        NOT NULL CHECK (type IN ('task.created', 'task.updated', 'task.completed', 'task.deleted', 'reminder.due')),
    task_id   uuid        NOT NULL,
    -- The task as the change left it (to_jsonb of its row); null for task.deleted.
    task      jsonb,
    at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    published boolean     NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, id)
);
-- The publisher's queue: what NATS has not acknowledged yet.
CREATE INDEX IF NOT EXISTS task_events_unpublished ON task_events (id) WHERE NOT published;
-- Pruning by age reads this; events arrive in time order, so a BRIN index stays tiny.
CREATE INDEX IF NOT EXISTS task_events_at ON task_events USING brin (at);

-- The id up to which events may have been pruned: a feed cursor below it may have missed some.
CREATE TABLE IF NOT EXISTS task_events_pruned (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    through   bigint  NOT NULL DEFAULT 0
);
INSERT INTO task_events_pruned DEFAULT VALUES ON CONFLICT DO NOTHING;

-- reminded_at: the reminder (remind_at) a reminder.due event was made for; the sweep makes one
-- for every open task whose reminder is due and not yet announced, exactly once (it claims the
-- rows), also for the reminders due while no replica was running.
ALTER TABLE tasks ADD COLUMN IF NOT EXISTS reminded_at timestamptz;
DROP INDEX CONCURRENTLY IF EXISTS tasks_reminders_unannounced;
CREATE INDEX CONCURRENTLY tasks_reminders_unannounced ON tasks (remind_at)
    WHERE reminder_open AND reminded_at IS DISTINCT FROM remind_at;

-- The derive trigger of migration 6, except that announcing a reminder (the sweep's write of
-- reminded_at alone) is not a change of the task: its version, and so its ETag, stay.
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
    NEW.created_at := OLD.created_at;
    IF (NEW.title, NEW.description, NEW.completed, NEW.priority, NEW.due_date, NEW.tags,
        NEW.recurrence, NEW.timezone, NEW.remind_at)
       IS DISTINCT FROM
       (OLD.title, OLD.description, OLD.completed, OLD.priority, OLD.due_date, OLD.tags,
        OLD.recurrence, OLD.timezone, OLD.remind_at) THEN
        NEW.updated_at := now();
    ELSE
        NEW.updated_at := OLD.updated_at;
        IF NEW.reminded_at IS DISTINCT FROM OLD.reminded_at THEN
            NEW.version := OLD.version;
            RETURN NEW;
        END IF;
    END IF;
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- The outbox trigger. Deferred to the commit, so that an event's id is taken in commit order
-- (under a lock on its user, held until the commit is done); it records each change with the
-- task as that change left it. A write that changes nothing a client sees makes no event.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tasks_outbox() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    kind text;
    task tasks;
BEGIN
    IF TG_OP = 'DELETE' THEN
        kind := 'task.deleted';
        task := OLD;
    ELSIF TG_OP = 'INSERT' THEN
        kind := 'task.created';
        task := NEW;
    ELSIF (NEW.title, NEW.description, NEW.completed, NEW.priority, NEW.due_date, NEW.tags,
           NEW.recurrence, NEW.timezone, NEW.remind_at)
          IS NOT DISTINCT FROM
          (OLD.title, OLD.description, OLD.completed, OLD.priority, OLD.due_date, OLD.tags,
           OLD.recurrence, OLD.timezone, OLD.remind_at) THEN
        IF NEW.reminded_at IS NOT DISTINCT FROM OLD.reminded_at THEN
            RETURN NULL;
        END IF;
        kind := 'reminder.due';
        task := NEW;
    ELSIF NEW.completed AND NOT OLD.completed THEN
        kind := 'task.completed';
        task := NEW;
    ELSE
        kind := 'task.updated';
        task := NEW;
    END IF;
    -- The lock's first key names this use of advisory locks; the second is the user's.
    PERFORM pg_advisory_xact_lock(738501, hashtext(task.user_id));
    INSERT INTO task_events (user_id, id, type, task_id, task)
    VALUES (task.user_id, nextval('task_events_id'), kind, task.id,
            CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(task) END);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP TRIGGER IF EXISTS tasks_outbox ON tasks;
CREATE CONSTRAINT TRIGGER tasks_outbox AFTER INSERT OR UPDATE OR DELETE ON tasks
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tasks_outbox();

-- +goose Down
DROP TRIGGER IF EXISTS tasks_outbox ON tasks;
DROP FUNCTION IF EXISTS tasks_outbox();
DROP INDEX CONCURRENTLY IF EXISTS tasks_reminders_unannounced;
ALTER TABLE tasks DROP COLUMN IF EXISTS reminded_at;
DROP TABLE IF EXISTS task_events_pruned;
DROP TABLE IF EXISTS task_events;
DROP SEQUENCE IF EXISTS task_events_id;
-- The derive trigger goes back to migration 6's (without the reminder clause).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tasks_derive_timestamps() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.tags IS DISTINCT FROM OLD.tags THEN
        IF cardinality(NEW.tags) > 10 THEN
            RAISE EXCEPTION 'a task has at most 10 tags' USING ERRCODE = 'check_violation';
        END IF;
        FOR i IN 1 .. coalesce(cardinality(NEW.tags), 0) LOOP
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
