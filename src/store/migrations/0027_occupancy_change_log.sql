-- Changes of occupancy are written to a log table instead of being sent with
-- NOTIFY from the writing transaction.
--
-- Why: a transaction that has sent a notification takes one lock for the whole
-- database at its commit and keeps it until its commit is on disk, so that
-- notifications are queued in commit order. Every booking sent one, so
-- bookings committed one after another, each waiting for its own flush, and
-- group commit could not share flushes among them: a booking's rows alone,
-- as plain SQL, reached about half the transactions per second they reach
-- without the notification.
--
-- Now the trigger inserts the notification's payload (unchanged, migration
-- 0023) into occupancy_changes, with the transaction's id and the order it
-- was written in. Every slotd's listening connection reads the log: it keeps
-- the snapshot of its last read and asks for the rows of the transactions
-- that have committed since (not visible in that snapshot, visible now), in
-- the order they were written; a row changed by two transactions one after
-- the other was written by the second only once the first had committed, so
-- the order holds across transactions too. It reads when woken and, without
-- a wake, every 100 ms.
--
-- The wake is a notification without a payload of its own,
-- {"table": "occupancy_changes"}, sent on slotd_changes:
--   - by the trigger, once per transaction (PostgreSQL drops repeats), for
--     any program's write (plain SQL, a migration);
--   - not by the trigger when the session has set slotd.wakes to 'later':
--     slotd's own connections do, and a request of slotd that waits for its
--     own committed change sends the wake from its listening connection,
--     whose transactions do not wait for their flush (synchronous_commit off:
--     a lost wake costs only the next 100 ms read, nothing is lost).
--
-- Rows are kept ten minutes after their transaction ended (slotd_sweep_changes,
-- called by the periodic sweep): it keeps a snapshot per sweep and deletes, a
-- batch at a time, the rows of the transactions that had ended before a
-- snapshot at least ten minutes old; occupancy_change_horizon says below which
-- transaction id rows may be gone. A read whose last snapshot's xmin is below
-- that horizon may have missed rows: the listener reconnects and loads
-- everything again (as it does after five minutes without a read).

CREATE TABLE occupancy_changes (
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    seq bigint GENERATED ALWAYS AS IDENTITY,
    payload jsonb NOT NULL
);
CREATE INDEX occupancy_changes_xid ON occupancy_changes (xid);

CREATE TABLE occupancy_change_marks (
    taken_at timestamptz NOT NULL DEFAULT now(),
    snapshot pg_snapshot NOT NULL
);
CREATE INDEX occupancy_change_marks_taken_at ON occupancy_change_marks (taken_at);

-- One row: rows of the log whose xid is below `below` may have been swept.
CREATE TABLE occupancy_change_horizon (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    below xid8 NOT NULL
);
INSERT INTO occupancy_change_horizon (below) VALUES ('0');

CREATE OR REPLACE FUNCTION slotd_announce_occupancy() RETURNS trigger LANGUAGE plpgsql AS $$
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
        -- moved: logged as leaving the old resource and reaching the new one
        INSERT INTO occupancy_changes (payload) VALUES (jsonb_build_object(
            'table', TG_TABLE_NAME, 'organization_id', OLD.organization_id, 'op', 'delete',
            'resource_id', OLD.resource_id, 'old', old_entry,
            'xid', pg_current_xact_id()::text, 'n', clock_timestamp()::text));
        payload := payload - 'old';
    END IF;
    INSERT INTO occupancy_changes (payload) VALUES (payload);
    IF current_setting('slotd.wakes', true) IS DISTINCT FROM 'later' THEN
        PERFORM pg_notify('slotd_changes', '{"table": "occupancy_changes"}');
    END IF;
    RETURN NULL;
END $$;

-- The sweep of the log: keeps this moment's snapshot and deletes at most
-- `batch` rows of the transactions that had ended before the newest snapshot
-- kept at least `keep` ago (and the snapshots older than that one), lowest
-- transaction ids first, after raising the horizon to that snapshot's xmin.
-- Answers how many rows went.
CREATE FUNCTION slotd_sweep_changes(keep interval, batch integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    mark occupancy_change_marks%ROWTYPE;
    gone bigint;
BEGIN
    INSERT INTO occupancy_change_marks (snapshot) VALUES (pg_current_snapshot());
    SELECT * INTO mark FROM occupancy_change_marks
     WHERE taken_at <= now() - keep ORDER BY taken_at DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    DELETE FROM occupancy_change_marks WHERE taken_at < mark.taken_at;
    UPDATE occupancy_change_horizon
       SET below = pg_snapshot_xmin(mark.snapshot)
     WHERE below < pg_snapshot_xmin(mark.snapshot);
    DELETE FROM occupancy_changes
     WHERE ctid = ANY (ARRAY(SELECT ctid FROM occupancy_changes
                              WHERE xid < pg_snapshot_xmin(mark.snapshot)
                              ORDER BY xid LIMIT batch));
    GET DIAGNOSTICS gone = ROW_COUNT;
    RETURN gone;
END $$;
