-- Provider webhooks: a Google watch channel or a Microsoft Graph subscription
-- per connection, created by the service when public_url is set and renewed
-- before it expires. watch_id is the channel's or subscription's id (what a
-- notification names), watch_secret_hash the SHA-256 of the secret it carries
-- back (Google's channel token, Graph's clientState; the secret itself is kept
-- nowhere), watch_resource_id Google's resourceId (to stop a channel),
-- watch_expires_at when the provider forgets it.
ALTER TABLE calendar_connections
    ADD COLUMN watch_id text CHECK (length(watch_id) BETWEEN 1 AND 256),
    ADD COLUMN watch_secret_hash bytea,
    ADD COLUMN watch_resource_id text CHECK (length(watch_resource_id) <= 1024),
    ADD COLUMN watch_expires_at timestamptz;
CREATE UNIQUE INDEX calendar_connections_watch ON calendar_connections (watch_id)
    WHERE watch_id IS NOT NULL;
-- a webhook names a connection by its id alone (Cal.com's URL carries it)
CREATE INDEX calendar_connections_id ON calendar_connections (id);
