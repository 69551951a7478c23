-- An api job sent to xAI's Batch API ("route": "batch") records its batch id here the moment
-- xAI gives it, before any request is added to the batch: a retried or resumed activity finds
-- the batch here and never creates (nor pays for) a second one.
ALTER TABLE "jobs" ADD COLUMN "xai_batch_id" text;
--> statement-breakpoint
-- One image call of xAI's answers up to 10 images: the call serving a group of a job's items
-- is recorded on the group's first item, where the others find their image.
ALTER TABLE "job_items" ADD COLUMN "xai_shared_call" text;
