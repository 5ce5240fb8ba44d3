-- Outbound webhooks, fixes from a review.
--
-- A booking's reminders are now kept in step with what they should be rather
-- than made anew: a waiting reminder that is still wanted (the same endpoint,
-- offset and time) stays, even when it is due and held back behind an
-- endpoint's retries, so a booking confirmed meanwhile, or another endpoint
-- created, no longer loses it; one no longer wanted (the booking moved or
-- ended, the offset or the endpoint gone) goes; a wanted one is made only
-- while its time is ahead and none was made before (done, given up or
-- waiting), so none is sent twice and no past one is sent late.
--
-- An endpoint's reminders are looked at again only when what decides them
-- changed (its events, status or deletion), not on every PATCH. A message's
-- due time is the moment its change is written (clock_timestamp() at commit),
-- not the start of its transaction, so messages of one endpoint go in the
-- order their changes committed.
CREATE OR REPLACE FUNCTION slotd_webhook_reminders(org uuid, booking uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    WITH wanted AS (
        SELECT e.id AS endpoint_id, m.offset_minutes,
               b.starts_at - make_interval(mins => m.offset_minutes) AS due_at
          FROM bookings b
          JOIN organizations o ON o.id = b.organization_id
          CROSS JOIN LATERAL unnest(o.reminder_offsets_minutes) AS m(offset_minutes)
          JOIN webhook_endpoints e ON e.organization_id = b.organization_id
           AND e.deleted_at IS NULL AND e.status = 'active'
           AND 'booking.reminder' = ANY (e.events)
         WHERE b.organization_id = org AND b.id = booking
           AND b.status IN ('pending', 'confirmed')),
    unwanted AS (
        DELETE FROM webhook_messages w
         WHERE w.organization_id = org AND w.booking_id = booking AND w.done_at IS NULL
           AND w.failed_at IS NULL AND w.attempts = 0
           AND (w.claimed_until IS NULL OR w.claimed_until <= now())
           AND NOT EXISTS (SELECT 1 FROM wanted x
                            WHERE x.endpoint_id = w.endpoint_id
                              AND x.offset_minutes = w.offset_minutes AND x.due_at = w.due_at)
        RETURNING 1)
    INSERT INTO webhook_messages (organization_id, endpoint_id, event_id, type, booking_id,
                                  offset_minutes, due_at, next_attempt_at)
    SELECT org, x.endpoint_id, 'msg_' || replace(gen_random_uuid()::text, '-', ''),
           'booking.reminder', booking, x.offset_minutes, x.due_at, x.due_at
      FROM wanted x
     WHERE x.due_at > now()
       AND NOT EXISTS (SELECT 1 FROM webhook_messages w
                        WHERE w.organization_id = org AND w.booking_id = booking
                          AND w.endpoint_id = x.endpoint_id
                          AND w.offset_minutes = x.offset_minutes AND w.due_at = x.due_at);
END $$;

-- Each message's due time is the moment its change is written.
CREATE OR REPLACE FUNCTION slotd_webhook_send(org uuid, kind text, data text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO webhook_messages (organization_id, endpoint_id, event_id, type, body, due_at,
                                  next_attempt_at)
    SELECT org, e.id, 'msg_' || replace(gen_random_uuid()::text, '-', ''), kind,
           '{"type":' || to_json(kind)
           || ',"timestamp":'
           || to_json(slotd_instant(extract(epoch FROM clock_timestamp())::bigint, 'UTC'))
           || ',"data":' || data || '}',
           clock_timestamp(), clock_timestamp()
      FROM webhook_endpoints e
     WHERE e.organization_id = org AND e.deleted_at IS NULL AND e.status = 'active'
       AND kind = ANY (e.events);
END $$;

DROP TRIGGER webhook_endpoints_reminders_changed ON webhook_endpoints;
CREATE TRIGGER webhook_endpoints_reminders_changed
    AFTER UPDATE OF events, status, deleted_at ON webhook_endpoints
    FOR EACH ROW WHEN (('booking.reminder' = ANY (NEW.events)
                        OR 'booking.reminder' = ANY (OLD.events))
                       AND (OLD.events IS DISTINCT FROM NEW.events
                            OR OLD.status IS DISTINCT FROM NEW.status
                            OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at))
    EXECUTE FUNCTION slotd_webhook_reminders_changed();
