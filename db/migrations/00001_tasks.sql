-- +goose Up
-- The rules here repeat the API's (openapi.yaml) as the last line of defence: a bug in the
-- service must not be able to store a task the contract forbids.

CREATE TYPE task_priority AS ENUM ('low', 'medium', 'high');

-- Each tag 1..30 characters, at most 10 of them, no repeats.
-- +goose StatementBegin
CREATE FUNCTION tags_are_valid(tags text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN cardinality(tags) <= 10
       AND array_position(tags, NULL) IS NULL
       AND NOT EXISTS (SELECT FROM unnest(tags) t WHERE char_length(t) NOT BETWEEN 1 AND 30)
       AND (SELECT count(DISTINCT t) FROM unnest(tags) t) = cardinality(tags);
-- +goose StatementEnd

CREATE TABLE tasks (
    id           uuid          PRIMARY KEY,
    user_id      text          NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 255),
    -- ICU ordering sorts titles the way people read them (apple, Apple, banana, Zebra)
    -- and makes ILIKE case-insensitive beyond ASCII.
    title        text          COLLATE "und-x-icu" NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200 AND btrim(title) <> ''),
    description  text          COLLATE "und-x-icu" CHECK (char_length(description) <= 1000),
    completed    boolean       NOT NULL DEFAULT false,
    completed_at timestamptz,
    priority     task_priority NOT NULL DEFAULT 'medium',
    due_date     timestamptz,
    tags         text[]        NOT NULL DEFAULT '{}' CHECK (tags_are_valid(tags)),
    created_at   timestamptz   NOT NULL DEFAULT now(),
    updated_at   timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT completed_at_iff_completed CHECK (completed = (completed_at IS NOT NULL))
);

-- The database, not the service, owns the derived timestamps, so no query can get them wrong:
-- completed_at is set when a task becomes completed and cleared when it is reopened;
-- updated_at moves only when an editable field really changes.
-- +goose StatementBegin
CREATE FUNCTION tasks_derive_timestamps() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
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
    ELSIF (NEW.title, NEW.description, NEW.completed, NEW.priority, NEW.due_date, NEW.tags)
          IS DISTINCT FROM
          (OLD.title, OLD.description, OLD.completed, OLD.priority, OLD.due_date, OLD.tags) THEN
        NEW.updated_at := now();
    ELSE
        NEW.updated_at := OLD.updated_at;
    END IF;
    NEW.created_at := coalesce(OLD.created_at, NEW.created_at);
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER tasks_derive_timestamps
    BEFORE INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_derive_timestamps();

-- One index per sort order, each led by user_id (every query filters on it) and ending in id
-- (the tie-breaker), so a page is a short index range scan for every sort.
CREATE INDEX tasks_user_created ON tasks (user_id, created_at, id);
CREATE INDEX tasks_user_updated ON tasks (user_id, updated_at, id);
CREATE INDEX tasks_user_title ON tasks (user_id, title, id);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority, id);
CREATE INDEX tasks_user_due_asc ON tasks (user_id, due_date ASC NULLS LAST, id);
CREATE INDEX tasks_user_due_desc ON tasks (user_id, due_date DESC NULLS LAST, id DESC);

-- +goose Down
DROP TABLE tasks;
DROP FUNCTION tasks_derive_timestamps();
DROP FUNCTION tags_are_valid(text[]);
DROP TYPE task_priority;
