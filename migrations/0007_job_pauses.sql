-- Paused job types and pools (issue 25's pause, issue 21's claim): the master claims no
-- PENDING job whose type, or whose pool, has a row here; running jobs go on. A row is the
-- pause itself, so every master sees it at once, and resuming is deleting it.
CREATE TABLE "job_pauses" (
	"scope" text NOT NULL,
	"name" text NOT NULL,
	"reason" text,
	"paused_by" text,
	"paused_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "job_pauses_scope_name_pk" PRIMARY KEY("scope","name"),
	CONSTRAINT "job_pauses_scope_check" CHECK ("job_pauses"."scope" IN ('type', 'pool'))
);
--> statement-breakpoint
-- Capacity may have come back (here: a resume): the master's listener claims again.
-- Other sources of capacity (a lease released, an account changed) notify the same channel.
CREATE OR REPLACE FUNCTION grokflow_notify_capacity() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('grokflow_capacity', json_build_object('table', TG_TABLE_NAME, 'op', TG_OP)::text);
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
DROP TRIGGER IF EXISTS job_pauses_notify ON job_pauses;
--> statement-breakpoint
CREATE TRIGGER job_pauses_notify AFTER DELETE ON job_pauses
  FOR EACH STATEMENT EXECUTE FUNCTION grokflow_notify_capacity();
