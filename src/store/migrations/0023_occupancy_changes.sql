-- A change of occupancy carries the rows it changed, so that every slotd
-- applies it to its in-memory index as it is notified, without reading the
-- resource's busy time again (which, under a booking load, was about two
-- fifths of PostgreSQL's time: every instance reloaded every booked resource).
--
-- The notification keeps what slotd_announce sent (table, organization_id, op,
-- resource_id) and adds, for the row before ("old", updates and deletes) and
-- after ("new", inserts and updates): [id, padded start, padded end, start,
-- end, the booking's creation or the hold's expiry, whether a booking, active],
-- the transaction's id ("xid", text: a writer that knows it waits for its own
-- change to reach its index) and the moment it was sent ("n": PostgreSQL drops
-- a notification equal to one its transaction sent before, and a row changed
-- back and forth in one transaction would otherwise lose a change), instants
-- as microseconds since 1970 (NULL when not finite or beyond what 64 bits of
-- them hold). An update that moves a row to another resource is announced as
-- a delete from the old one and an update with only "new" on the new one; an
-- update that changes none of these (updated_at alone) is not announced.
-- Notifications of one transaction are delivered at its commit in the order
-- they were sent, and transactions in the order they committed.

CREATE FUNCTION slotd_epoch_us(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN isfinite(t) AND t < '290000-01-01' AND t > '4000-01-01 BC'
                THEN (extract(epoch FROM t) * 1000000)::bigint END
$$;

-- A row as the index holds it: [id, padded start, padded end, start, end, stamp,
-- booking, active].
CREATE FUNCTION slotd_occupancy_entry(c occupancy) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_array(c.id, slotd_epoch_us(lower(c.occupied)),
                             slotd_epoch_us(upper(c.occupied)), slotd_epoch_us(c.starts_at),
                             slotd_epoch_us(c.ends_at),
                             slotd_epoch_us(coalesce(c.booking_created_at, c.expires_at)),
                             c.booking_id IS NOT NULL, c.active)
$$;

CREATE FUNCTION slotd_announce_occupancy() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
    old_entry jsonb;
    new_entry jsonb;
    payload jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_OP <> 'INSERT' THEN
        old_entry := slotd_occupancy_entry(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_entry := slotd_occupancy_entry(NEW);
    END IF;
    IF TG_OP = 'UPDATE' AND old_entry = new_entry AND OLD.resource_id = NEW.resource_id
       AND OLD.organization_id = NEW.organization_id THEN
        RETURN NULL;
    END IF;
    payload := jsonb_build_object('table', TG_TABLE_NAME, 'organization_id', r.organization_id,
                                  'op', lower(TG_OP), 'resource_id', r.resource_id,
                                  'xid', pg_current_xact_id()::text,
                                  'n', clock_timestamp()::text);
    IF old_entry IS NOT NULL THEN
        payload := payload || jsonb_build_object('old', old_entry);
    END IF;
    IF new_entry IS NOT NULL THEN
        payload := payload || jsonb_build_object('new', new_entry);
    END IF;
    IF TG_OP = 'UPDATE' AND (OLD.resource_id <> NEW.resource_id
                             OR OLD.organization_id <> NEW.organization_id) THEN
        -- moved: announced as leaving the old resource and reaching the new one
        PERFORM pg_notify('slotd_changes', jsonb_build_object(
            'table', TG_TABLE_NAME, 'organization_id', OLD.organization_id, 'op', 'delete',
            'resource_id', OLD.resource_id, 'old', old_entry,
            'xid', pg_current_xact_id()::text, 'n', clock_timestamp()::text)::text);
        payload := payload - 'old';
    END IF;
    PERFORM pg_notify('slotd_changes', payload::text);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS occupancy_announce ON occupancy;
CREATE TRIGGER occupancy_announce AFTER INSERT OR UPDATE OR DELETE ON occupancy
    FOR EACH ROW EXECUTE FUNCTION slotd_announce_occupancy();
