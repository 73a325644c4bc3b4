-- Job leases: a claimed job records who claimed it and until when. On PostgreSQL several
-- workers share the queue, and a running job whose lease ran out (its worker died) is
-- claimed again by another, which resumes it from its journal. SQLite has one worker per
-- database; the columns are kept in step.
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at BIGINT;
