CREATE TABLE "grokflow_instance" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"identity" uuid DEFAULT gen_random_uuid() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "grokflow_instance_one_row" CHECK ("grokflow_instance"."singleton")
);
--> statement-breakpoint
-- The identity is made once, here: a copy of the database (pg_dump/restore) keeps it, a new
-- database gets its own.
INSERT INTO "grokflow_instance" DEFAULT VALUES ON CONFLICT DO NOTHING;
