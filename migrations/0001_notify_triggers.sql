-- NOTIFY 'job_events' when a job is inserted, on every status change and on progress, so
-- the master claims new rows at once and watchers see moves live. Rows inserted by plain
-- SQL notify too: that is why this is a trigger and not application code. A status change
-- carries `from`; a progress update has the same status and `from` equal to it.
CREATE OR REPLACE FUNCTION grokflow_notify_job_event() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status
     OR NEW.progress IS DISTINCT FROM OLD.progress
     OR NEW.progress_message IS DISTINCT FROM OLD.progress_message THEN
    PERFORM pg_notify('job_events', json_build_object(
      'id', NEW.id,
      'type', NEW.type,
      'status', NEW.status,
      'from', CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.status END,
      'progress', NEW.progress,
      'message', left(NEW.progress_message, 200)
    )::text);
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS jobs_notify ON jobs;
--> statement-breakpoint
CREATE TRIGGER jobs_notify AFTER INSERT OR UPDATE OF status, progress, progress_message ON jobs
  FOR EACH ROW EXECUTE FUNCTION grokflow_notify_job_event();
--> statement-breakpoint
CREATE OR REPLACE FUNCTION grokflow_touch_updated_at() RETURNS trigger AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS jobs_touch ON jobs;
--> statement-breakpoint
CREATE TRIGGER jobs_touch BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION grokflow_touch_updated_at();
--> statement-breakpoint
DROP TRIGGER IF EXISTS job_items_touch ON job_items;
--> statement-breakpoint
CREATE TRIGGER job_items_touch BEFORE UPDATE ON job_items FOR EACH ROW EXECUTE FUNCTION grokflow_touch_updated_at();
--> statement-breakpoint
DROP TRIGGER IF EXISTS accounts_touch ON accounts;
--> statement-breakpoint
CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION grokflow_touch_updated_at();
--> statement-breakpoint
-- A job's history starts at its INSERT, however it was inserted (SQL, CLI, retry).
CREATE OR REPLACE FUNCTION grokflow_job_created_event() RETURNS trigger AS $$
BEGIN
  INSERT INTO job_events (job_id, from_status, to_status, detail)
    VALUES (NEW.id, NULL, NEW.status, CASE WHEN NEW.retry_of IS NULL THEN NULL
                                           ELSE json_build_object('retryOf', NEW.retry_of)::jsonb END);
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS jobs_created_event ON jobs;
--> statement-breakpoint
CREATE TRIGGER jobs_created_event AFTER INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION grokflow_job_created_event();
