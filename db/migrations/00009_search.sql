-- +goose NO TRANSACTION
-- +goose Up
-- A search (`q`) for text in few of a user's tasks must not read all of them: at 10,000 tasks a
-- user that scan took seconds (bench/RESULTS.md, growth). A GiST index led by user_id, whose
-- second key is the trigrams of the lowered title and description, finds the user's candidate
-- rows in a few pages; the list queries keep an exact test on each column.
--
-- Why this index and not another (all measured in bench/RESULTS.md): a GIN trigram index, led
-- by the user or not, reads the long posting lists of trigrams every task has ("tas", "ask")
-- for all users; a GIN whose keys are the user's own costs 9-13x per insert (about 85 keys
-- land at random places of it). A GiST entry is one leaf tuple, so an insert costs about what
-- a btree insert does, and the tree keeps a user's tasks together (btree_gist splits on
-- user_id first, then on the trigrams' signatures, siglen 256 bytes so that a leaf page's
-- signature still rules it out).
--
-- lower() uses the columns' ICU collation, as ILIKE does: pg_trgm would lower with the
-- database's default collation, which can disagree with ICU (İ, final sigma) and miss a row
-- that ILIKE matches. The queries repeat this expression exactly
-- (TestSearchReadsItsMatchesNotTheUser fails when they drift apart: the index goes unused).
--
-- Both extensions are trusted (a database owner may create them, as on Neon). CONCURRENTLY:
-- writes go on during the build; a failed build leaves an invalid index, dropped first on a rerun.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_search;
CREATE INDEX CONCURRENTLY tasks_user_search ON tasks
    USING gist (user_id, lower(title || ' ' || coalesce(description, '')) gist_trgm_ops (siglen = 256));

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_search;
DROP EXTENSION IF EXISTS btree_gist;
DROP EXTENSION IF EXISTS pg_trgm;
