-- Calendar sync, made safe against what happens while a pull runs.
--
-- sync_claimed_at: when the running pull took the connection; a pull asked for
-- after that (sync_requested_at: POST .../sync, a provider's webhook) is not
-- lost when the running pull ends: the connection stays due.
--
-- Deleting a connection deletes its events in a statement of its own (this
-- trigger, after the row is changed), which sees the events of a pull that
-- committed while the deletion waited for the connection's row: a pull's
-- write locks that row first, so no event of a deleted connection is left.
ALTER TABLE calendar_connections
    ADD COLUMN sync_claimed_at timestamptz,
    ADD COLUMN sync_requested_at timestamptz;

CREATE FUNCTION slotd_connection_gone() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM external_busy_events
     WHERE organization_id = NEW.organization_id AND connection_id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER calendar_connections_gone AFTER UPDATE ON calendar_connections
    FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
    EXECUTE FUNCTION slotd_connection_gone();
