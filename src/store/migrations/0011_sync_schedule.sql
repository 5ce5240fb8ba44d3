-- When each calendar connection is pulled next, and what a pull keeps between
-- runs besides the provider's sync state.
--
-- next_sync_at: when the connection is due (new connections at once); a pull
-- that ends sets it to the next incremental pull, spread out by a random part
-- of the interval, or later after a failure (doubling, as the provider's
-- Retry-After asks). sync_claimed_until: a process that took the connection
-- for a pull holds it until then (claims take FOR UPDATE SKIP LOCKED, so two
-- instances never pull one connection at once; a claim of a process that died
-- runs out). sync_full_requested: a full listing was asked for
-- (POST .../sync {"full":true}, slotd sync --full). access_token: the OAuth
-- access token, sealed like the credentials (bound to the purpose "access"),
-- reused until access_expires_at. sync_failures: pulls failed in a row.
ALTER TABLE calendar_connections
    ADD COLUMN next_sync_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN sync_claimed_until timestamptz,
    ADD COLUMN sync_full_requested boolean NOT NULL DEFAULT false,
    ADD COLUMN sync_failures integer NOT NULL DEFAULT 0 CHECK (sync_failures >= 0),
    ADD COLUMN access_token bytea,
    ADD COLUMN access_expires_at timestamptz;

CREATE INDEX calendar_connections_due ON calendar_connections (next_sync_at)
    WHERE deleted_at IS NULL AND status = 'active' AND direction <> 'push';

-- A pull's own bookkeeping (times, tokens, errors) is no news to anyone's
-- index: a connection is announced when it appears, goes, or changes what it is.
DROP TRIGGER calendar_connections_announce ON calendar_connections;
CREATE TRIGGER calendar_connections_announce AFTER INSERT OR DELETE
    ON calendar_connections FOR EACH ROW EXECUTE FUNCTION slotd_announce_connection();
CREATE TRIGGER calendar_connections_announce_change AFTER UPDATE ON calendar_connections
    FOR EACH ROW
    WHEN (OLD.deleted_at IS DISTINCT FROM NEW.deleted_at OR OLD.status IS DISTINCT FROM NEW.status
          OR OLD.direction IS DISTINCT FROM NEW.direction
          OR OLD.calendar_id IS DISTINCT FROM NEW.calendar_id
          OR OLD.resource_id IS DISTINCT FROM NEW.resource_id)
    EXECUTE FUNCTION slotd_announce_connection();
