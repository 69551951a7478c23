CREATE TABLE "job_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" bigint NOT NULL,
	"delivery_id" text NOT NULL,
	"attempt" integer NOT NULL,
	"http_status" integer,
	"error" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "job_items" ADD COLUMN "object_url" text;--> statement-breakpoint
ALTER TABLE "job_items" ADD COLUMN "files" jsonb;--> statement-breakpoint
ALTER TABLE "job_deliveries" ADD CONSTRAINT "job_deliveries_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_deliveries_job_idx" ON "job_deliveries" USING btree ("job_id","at");