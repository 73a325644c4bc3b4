-- The store's write lock on PostgreSQL: every write transaction (`Store::write`) runs
-- `LOCK TABLE write_lock IN EXCLUSIVE MODE` as its first statement, so writes from every
-- process apply one at a time. A LOCK is not a query: a SERIALIZABLE transaction takes
-- its snapshot at its first query, after the lock is granted, so a writer always sees
-- every write committed before it (an advisory lock taken by a SELECT would take the
-- snapshot before waiting). The table holds no rows and is never written.
CREATE TABLE write_lock (id INTEGER PRIMARY KEY);
