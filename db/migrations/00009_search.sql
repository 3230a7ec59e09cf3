-- +goose NO TRANSACTION
-- +goose Up
-- q searches titles and descriptions (ILIKE '%q%'). Walking the user's tasks in the page's
-- order and dropping those that do not match reads all of them when few match: at 10,000 tasks
-- a search for a rare word read all 10,000 rows for a page of one (bench/RESULTS.md, growth). A
-- trigram index finds the matches instead. The planner takes it when it expects few matches
-- (then sorts them), and walks the order's index when it expects many (a page of a common word
-- is in the first rows); TestSearchReadsItsMatchesNotTheUser checks both.
-- Led by user_id (btree_gin): a word rare for one user is often common to thousands (every
-- user has a "groceries" task); an index of all users' trigrams would read every user's matches
-- and filter them (measured: 5.6x slower than no index at all with 1000 users).
-- Both extensions ship with PostgreSQL and are trusted (a database owner may create them; Neon
-- offers both). The price: each insert, and each update (none is HOT since migration 8), adds
-- the trigrams of the title and description to this index (measured in bench/RESULTS.md).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;
DROP INDEX CONCURRENTLY IF EXISTS tasks_search;
CREATE INDEX CONCURRENTLY tasks_search ON tasks USING gin (user_id, title gin_trgm_ops, description gin_trgm_ops);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS tasks_search;
