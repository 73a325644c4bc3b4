-- Job leases: a claimed job records who claimed it and until when; a running job whose
-- lease ran out (its worker died) is claimed again by another worker, which resumes it
-- from its journal (the same signed bytes).
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE jobs ADD COLUMN lease_expires_at BIGINT;
CREATE INDEX jobs_lease ON jobs (state, lease_expires_at);
