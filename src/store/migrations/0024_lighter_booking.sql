-- Less work for PostgreSQL in every booking's transaction, the same rows
-- written and the same notifications sent.
--
-- slotd_epoch_us and slotd_occupancy_entry were declared IMMUTABLE, but what
-- they call (extract from a timestamptz, jsonb_build_array) is STABLE, and
-- PostgreSQL inlines a SQL function into its caller only when its body is no
-- less stable than it claims: each transaction that changed occupancy parsed
-- and planned both bodies again (six times for a new booking, about a fifth of
-- the booking's own time). Declared STABLE, as they are, they are inlined
-- into slotd_announce_occupancy's expressions, planned once per connection.
--
-- A booking's webhook trigger rendered the booking (slotd_booking_answer) for
-- slotd_webhook_send, and looked for reminders to make, even in an
-- organization with no endpoint that takes the event: it now first looks
-- whether one does. A new booking with no endpoint for booking.reminder has
-- no reminder to make nor any to remove, so slotd_webhook_reminders is not
-- called for it; a change of an existing booking still calls it (it removes
-- reminders no longer wanted).
ALTER FUNCTION slotd_epoch_us(timestamptz) STABLE;
ALTER FUNCTION slotd_occupancy_entry(occupancy) STABLE;

-- Whether the organization has an active endpoint that takes `kind` (in
-- PL/pgSQL: its plan is kept by the connection, where a SQL function's
-- subquery would be planned again in every transaction).
CREATE FUNCTION slotd_webhook_wanted(org uuid, kind text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM webhook_endpoints e
                    WHERE e.organization_id = org AND e.deleted_at IS NULL
                      AND e.status = 'active' AND kind = ANY (e.events));
END $$;

CREATE OR REPLACE FUNCTION slotd_webhook_booking() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        kind := 'booking.created';
    ELSIF NEW.status = 'cancelled' AND OLD.status <> 'cancelled' THEN
        kind := 'booking.cancelled';
    ELSIF NEW.starts_at <> OLD.starts_at OR NEW.ends_at <> OLD.ends_at THEN
        kind := 'booking.rescheduled';
    ELSIF NEW.status <> OLD.status OR NEW.notes IS DISTINCT FROM OLD.notes THEN
        kind := 'booking.updated';
    ELSE
        RETURN NULL;
    END IF;
    IF slotd_webhook_wanted(NEW.organization_id, kind) THEN
        PERFORM slotd_webhook_send(NEW.organization_id, kind,
                                   slotd_booking_answer(NEW.organization_id, NEW.id, NULL));
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF slotd_webhook_wanted(NEW.organization_id, 'booking.reminder') THEN
            PERFORM slotd_webhook_reminders(NEW.organization_id, NEW.id);
        END IF;
    ELSIF kind <> 'booking.updated' OR NEW.status <> OLD.status THEN
        PERFORM slotd_webhook_reminders(NEW.organization_id, NEW.id);
    END IF;
    RETURN NULL;
END $$;
