-- Console sessions (issue 22): a row per login, so a logout ends exactly that session and
-- an expired one is refused whatever the browser kept. The cookie's value is never stored,
-- only its SHA-256; `token_mac` is an HMAC of the WEB_TOKEN it was opened with, so changing
-- WEB_TOKEN ends every session at once.
CREATE TABLE "web_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"token_mac" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "web_sessions_expires_at_idx" ON "web_sessions" ("expires_at");
