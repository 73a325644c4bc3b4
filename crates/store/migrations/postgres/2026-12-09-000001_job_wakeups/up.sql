-- Job wake-ups across processes: whenever a job becomes claimable (queued, rescheduled)
-- or a job ends (which may free its GPU or cluster for the next job in line), the
-- transaction notifies channel `bitfox_jobs`. PostgreSQL delivers it at commit, once per
-- transaction, to every worker listening (`Store::notify_on`), which then claims at once
-- instead of at its next poll. A claim (queued -> running) notifies no one.
CREATE FUNCTION jobs_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT'
        OR (NEW.state IS DISTINCT FROM OLD.state AND NEW.state <> 'running')
        OR (NEW.state = 'queued' AND NEW.run_after IS DISTINCT FROM OLD.run_after)
    THEN
        PERFORM pg_notify('bitfox_jobs', '');
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_wake AFTER INSERT OR UPDATE ON jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_wake();
