ALTER TABLE "accounts" ADD COLUMN "pool" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "concurrency" integer;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "min_gap_ms" integer;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "last_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "last_error" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_concurrency_positive" CHECK ("accounts"."concurrency" IS NULL OR "accounts"."concurrency" > 0);--> statement-breakpoint
ALTER TABLE "accounts" ADD CONSTRAINT "accounts_min_gap_not_negative" CHECK ("accounts"."min_gap_ms" IS NULL OR "accounts"."min_gap_ms" >= 0);--> statement-breakpoint
CREATE INDEX "accounts_pool_idx" ON "accounts" USING btree ("pool");--> statement-breakpoint
CREATE TABLE "account_leases" (
	"account" text NOT NULL,
	"holder" text NOT NULL,
	"job_id" bigint,
	"item_index" integer,
	"acquired_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "account_leases_account_holder_pk" PRIMARY KEY("account","holder")
);
--> statement-breakpoint
ALTER TABLE "account_leases" ADD CONSTRAINT "account_leases_account_accounts_name_fk" FOREIGN KEY ("account") REFERENCES "public"."accounts"("name") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "account_leases_expiry_idx" ON "account_leases" USING btree ("account","expires_at");--> statement-breakpoint
ALTER TABLE "job_items" ADD COLUMN "account" text;
