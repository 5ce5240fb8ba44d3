-- ICS feeds: a feed's recurring events are kept as series, expanded by each
-- instance's engine as far as its queries reach (in the series' own zone, by
-- the same rules as recurring blocks), never to a fixed horizon.
--
-- A series is a row of external_busy_events with an rrule: its first
-- occurrence in starts_at/ends_at (for listings and checks), its DTSTART's
-- wall time in start_local, the zone it is expanded in (timezone: an IANA
-- name, or the TZID of the feed's own VTIMEZONE kept in vtimezone; NULL:
-- floating, the resource's zone), the length of each occurrence in seconds
-- (nominal: wall seconds, so an all-day occurrence ends at a local midnight),
-- and the wall starts of left-out occurrences (EXDATEs and overridden ones).
-- One-off events have none of these, and are what the index's one-off load
-- reads.
--
-- An ics connection's sync_token holds the feed's validators as JSON
-- ({"etag","last_modified","sha256"}): the columns 0009 set aside for them
-- were never used and go.
ALTER TABLE external_busy_events
    ADD COLUMN rrule text CHECK (length(rrule) BETWEEN 1 AND 1024),
    ADD COLUMN start_local timestamp,
    ADD COLUMN timezone text CHECK (length(timezone) BETWEEN 1 AND 256),
    ADD COLUMN vtimezone text CHECK (length(vtimezone) <= 65536),
    ADD COLUMN duration_seconds integer CHECK (duration_seconds BETWEEN 1 AND 31 * 86400),
    ADD COLUMN nominal boolean NOT NULL DEFAULT false,
    ADD COLUMN exdates timestamp[] CHECK (cardinality(exdates) <= 20000),
    ADD CONSTRAINT external_busy_events_series
        CHECK ((rrule IS NULL) = (start_local IS NULL)
               AND (rrule IS NULL) = (duration_seconds IS NULL)
               AND (rrule IS NOT NULL OR (timezone IS NULL AND vtimezone IS NULL
                                          AND exdates IS NULL)));

DROP INDEX external_busy_events_load;
CREATE INDEX external_busy_events_load ON external_busy_events (organization_id, resource_id)
    INCLUDE (starts_at, ends_at, id, connection_id) WHERE busy AND rrule IS NULL;
CREATE INDEX external_busy_events_series ON external_busy_events (organization_id, resource_id)
    WHERE busy AND rrule IS NOT NULL;

ALTER TABLE calendar_connections DROP COLUMN sync_etag, DROP COLUMN sync_last_modified;
