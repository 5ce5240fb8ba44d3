-- A booking change that finds a push already waiting for its booking and
-- connection adds none: the waiting row carries it. The waiting row is now
-- locked by that change's transaction until it commits, so a runner's claim
-- (FOR UPDATE ... SKIP LOCKED) cannot take it meanwhile and push the booking
-- as it was before the change; once the change commits, the claim reads the
-- booking as changed. A row a claim took first is no longer waiting when the
-- lock is granted, and the change then adds a row of its own.
CREATE OR REPLACE FUNCTION slotd_outbox_push() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    c record;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF r.booking_id IS NULL THEN
        RETURN NULL;
    END IF;
    FOR c IN SELECT k.id FROM calendar_connections k
              WHERE k.organization_id = r.organization_id AND k.resource_id = r.resource_id
                AND k.deleted_at IS NULL AND k.status = 'active' AND k.direction <> 'pull'
                AND k.provider <> 'ics' LOOP
        PERFORM 1 FROM outbox o
          WHERE o.organization_id = r.organization_id AND o.connection_id = c.id
            AND o.booking_id = r.booking_id AND o.done_at IS NULL AND o.claimed_until IS NULL
            FOR UPDATE;
        IF NOT FOUND THEN
            INSERT INTO outbox (organization_id, kind, connection_id, booking_id)
            VALUES (r.organization_id, 'calendar_push', c.id, r.booking_id);
        END IF;
    END LOOP;
    RETURN NULL;
END $$;
