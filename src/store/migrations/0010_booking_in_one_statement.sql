-- A booking in one statement. The booking transaction used to be nine
-- statements on one connection, each sent once the one before had answered
-- (the key's lock and lookup, the hold, the locks, the expired holds, the
-- insert, the booking read back, the key's answer, COMMIT). slotd_book() does
-- all of it inside the server, so that BEGIN, one call of it and COMMIT go out
-- together in one pipeline: one round trip per booking.
--
-- Each statement of a volatile PL/pgSQL function takes a new snapshot in READ
-- COMMITTED, as separate statements did: the key's lookup sees a first request
-- that committed while its lock was awaited, and the find-or-create of a
-- customer sees one created by a booking that held the customer's lock before.
-- Every function here is PL/pgSQL, which keeps its statements' plans for the
-- session: a SQL function that cannot be inlined is planned again at every call
-- (about 1.5 ms for the answer's query, more than the rest of the booking).

-- The locks a transaction takes before it writes what two transactions at once
-- would race on: the find-or-create of one customer (the normalized phone or
-- the email, lower-cased as the lookup compares it; NULL: none), then each
-- resource whose occupancy it writes, in id order, so that writers of one
-- resource queue instead of deadlocking in the exclusion check (two
-- transactions inserting overlapping occupancy at once can each find the
-- other's row and wait for it; PostgreSQL breaks that only after
-- deadlock_timeout). Bookings, holds and reschedules all take them this way.
CREATE FUNCTION slotd_take_locks(org uuid, customer_match text, resource_ids uuid[])
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM count(pg_advisory_xact_lock(k))
       FROM (SELECT 0 AS step, NULL::uuid AS resource,
                    hashtextextended(org::text || ':customer:' || lower(customer_match), 0) AS k
             UNION ALL
             SELECT DISTINCT 1, r, hashtextextended(org::text || ':resource:' || r::text, 0)
               FROM unnest(resource_ids) r
              ORDER BY step, resource) locks;
END $$;

-- An instant (`seconds` since the epoch) as the API writes it: RFC 3339 in the
-- zone, to the second, with the zone's offset in hours and minutes, "Z" in UTC
-- itself (as codec_write_instant writes it). The zone is read as the service
-- reads it, from its zoneinfo file, by making it the function's own TimeZone
-- (the SET clause restores the caller's on return): AT TIME ZONE would take a
-- name that is also an abbreviation (CET, EET, MET, WET) as a fixed offset,
-- one hour off in summer.
CREATE FUNCTION slotd_instant(seconds bigint, zone text) RETURNS text
LANGUAGE plpgsql STABLE SET TimeZone FROM CURRENT AS $$
DECLARE
    at timestamptz := to_timestamp(seconds);
    off integer;
BEGIN
    PERFORM set_config('TimeZone', zone, true);
    off := extract(timezone FROM at)::integer;
    RETURN to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS')
           || CASE WHEN off = 0 AND zone = 'UTC' THEN 'Z'
                   ELSE CASE WHEN off < 0 THEN '-' ELSE '+' END
                        || lpad((abs(off) / 3600)::text, 2, '0') || ':'
                        || lpad((abs(off) / 60 % 60)::text, 2, '0') END;
END $$;

-- A booking ($2) in the API's form (docs/api.md "Bookings"), compact, its
-- instants in `zone` (NULL: the organization's): the same fields in the same
-- order as GET /v1/bookings/{id} answers them. This text is the first answer
-- to a new booking and the one kept under its Idempotency-Key, so that a
-- replay answers exactly its bytes.
CREATE FUNCTION slotd_booking_answer(org uuid, booking uuid, zone text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    SELECT '{"id":' || to_json(b.id::text)
           || ',"status":' || to_json(b.status)
           || ',"service_id":' || to_json(b.service_id::text)
           || ',"start":' || to_json(slotd_instant(extract(epoch FROM b.starts_at)::bigint, z.zone))
           || ',"end":' || to_json(slotd_instant(extract(epoch FROM b.ends_at)::bigint, z.zone))
           || ',"resource_ids":['
           || coalesce((SELECT string_agg(to_json(c.resource_id::text)::text, ','
                                          ORDER BY c.resource_id)
                          FROM occupancy c
                         WHERE c.organization_id = b.organization_id AND c.booking_id = b.id), '')
           || '],"customer":{"id":' || to_json(u.id::text)
           || ',"name":' || to_json(u.name)
           || ',"phone":' || coalesce(to_json(u.phone)::text, 'null')
           || ',"email":' || coalesce(to_json(u.email)::text, 'null')
           || '},"notes":' || coalesce(to_json(b.notes)::text, 'null')
           || ',"source":' || to_json(b.source)
           || ',"external_ref":' || coalesce(to_json(b.external_ref)::text, 'null')
           || ',"created_at":'
           || to_json(slotd_instant(extract(epoch FROM b.created_at)::bigint, z.zone))
           || ',"updated_at":'
           || to_json(slotd_instant(extract(epoch FROM b.updated_at)::bigint, z.zone)) || '}'
      FROM bookings b
      JOIN customers u ON u.organization_id = b.organization_id AND u.id = b.customer_id
      JOIN organizations o ON o.id = b.organization_id
      CROSS JOIN LATERAL (SELECT coalesce(slotd_booking_answer.zone, o.timezone) AS zone) z
     WHERE b.organization_id = org AND b.id = slotd_booking_answer.booking);
END $$;

-- The booking transaction's one statement. In order:
--   1. the Idempotency-Key (idem_key, NULL: none): taken with
--      pg_try_advisory_xact_lock (busy: 'in_progress' at once), then looked up
--      in a statement of its own: an answer of the last 24 hours with the same
--      request hash is 'replay' (its status and answer), another hash
--      'mismatch'; an older row is forgotten;
--   2. decided false (the rules refused before the transaction): 'refused',
--      nothing written; a replay is answered first, so that a retry gets the
--      first answer even once that very booking has taken the slot;
--   3. the hold (NULL: none), locked: unknown 'hold_not_found'; released,
--      expired by `clock` or without its occupancy 'hold_gone'; for another
--      service or start 'hold_other'; resource_ids (the pinned ones) not among
--      its resources 'hold_resources'; else the booking takes its end and its
--      resources;
--   4. the customer's and the resources' locks (slotd_take_locks);
--   5. the hold consumed (released at `clock`, its occupancy deleted), and
--      expired holds' occupancy in the way deleted;
--   6. the customer found (by normalized phone, else by email) and updated,
--      or created; the booking; one occupancy row per resource over
--      [start − pad_before, end + pad_after), carrying the booking's own time
--      and creation as the index loads them (migration 0008; an overlap is
--      SQLSTATE 23P01: the exclusion constraint decides); the audit row;
--   7. the answer (slotd_booking_answer, in `zone`), kept under the key.
-- Returns the outcome ('created' with status 201, the answer, the booking's
-- id and its resources, comma-separated in id order), or one of the above.
-- Nothing is written unless the outcome is 'created', so committing any other
-- outcome is harmless.
CREATE FUNCTION slotd_book(
    org uuid, idem_key text, req_hash bytea, clock bigint, decided boolean, hold uuid,
    service uuid, start_at bigint, end_at bigint, pad_before bigint, pad_after bigint,
    resource_ids uuid[], c_name text, c_phone text, c_phone_normalized text, c_email text,
    b_status text, b_notes text, b_source text, b_external_ref text, audit_actor text,
    zone text,
    OUT outcome text, OUT answer_status integer, OUT answer text, OUT booking uuid,
    OUT resources text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    h holds%ROWTYPE;
    kept idempotency_keys%ROWTYPE;
    held uuid[];
    finish bigint := end_at;
BEGIN
    IF idem_key IS NOT NULL THEN
        IF NOT pg_try_advisory_xact_lock(
                hashtextextended(org::text || ':idempotency:' || idem_key, 0)) THEN
            outcome := 'in_progress';
            RETURN;
        END IF;
        DELETE FROM idempotency_keys
         WHERE organization_id = org AND key = idem_key
           AND created_at <= now() - interval '24 hours';
        SELECT * INTO kept FROM idempotency_keys
         WHERE organization_id = org AND key = idem_key AND completed_at IS NOT NULL;
        IF FOUND THEN
            outcome := CASE WHEN kept.request_hash = req_hash THEN 'replay' ELSE 'mismatch' END;
            IF outcome = 'replay' THEN
                answer_status := kept.status_code;
                answer := kept.response;
            END IF;
            RETURN;
        END IF;
    END IF;
    IF NOT decided THEN
        outcome := 'refused';
        RETURN;
    END IF;
    IF hold IS NOT NULL THEN
        SELECT * INTO h FROM holds WHERE organization_id = org AND id = hold FOR UPDATE;
        IF NOT FOUND THEN
            outcome := 'hold_not_found';
            RETURN;
        END IF;
        SELECT array_agg(c.resource_id ORDER BY c.resource_id) INTO held
          FROM occupancy c WHERE c.organization_id = org AND c.hold_id = hold;
        IF h.released_at IS NOT NULL OR h.expires_at <= to_timestamp(clock) OR held IS NULL THEN
            -- without occupancy, the hold is live by this clock but another transaction or
            -- the sweep found it expired first: a booking is never made on nothing
            outcome := 'hold_gone';
            RETURN;
        END IF;
        IF h.service_id <> service OR h.starts_at <> to_timestamp(start_at) THEN
            outcome := 'hold_other';
            RETURN;
        END IF;
        IF NOT coalesce(resource_ids, '{}') <@ held THEN
            outcome := 'hold_resources';
            RETURN;
        END IF;
        resource_ids := held;
        finish := extract(epoch FROM h.ends_at)::bigint;
    END IF;
    PERFORM slotd_take_locks(org, coalesce(c_phone_normalized, c_email), resource_ids);
    IF hold IS NOT NULL THEN
        UPDATE holds SET released_at = to_timestamp(clock)
         WHERE organization_id = org AND id = hold;
        DELETE FROM occupancy WHERE organization_id = org AND hold_id = hold;
    END IF;
    DELETE FROM occupancy
     WHERE organization_id = org AND resource_id = ANY (resource_ids) AND hold_id IS NOT NULL
       AND active AND expires_at <= to_timestamp(clock)
       AND occupied && tstzrange(to_timestamp(start_at - pad_before),
                                 to_timestamp(finish + pad_after));
    WITH found AS (
        -- by phone first; else by email (a customer first known by email alone, now
        -- giving a phone too, is the same customer, and gets that phone)
        SELECT id FROM customers
         WHERE organization_id = org
           AND ((c_phone_normalized IS NOT NULL AND phone_normalized = c_phone_normalized)
                OR (c_email IS NOT NULL AND lower(email) = lower(c_email)))
         ORDER BY (c_phone_normalized IS NOT NULL
                   AND phone_normalized IS NOT DISTINCT FROM c_phone_normalized) DESC,
                  created_at, id
         LIMIT 1),
    upd AS (
        UPDATE customers u
           SET name = c_name, email = coalesce(c_email, u.email),
               phone = CASE WHEN u.phone_normalized IS NULL THEN c_phone ELSE u.phone END,
               phone_normalized = coalesce(u.phone_normalized, c_phone_normalized)
          FROM found
         WHERE u.organization_id = org AND u.id = found.id
        RETURNING u.id),
    ins AS (
        INSERT INTO customers (organization_id, name, phone, phone_normalized, email)
        SELECT org, c_name, c_phone, c_phone_normalized, c_email
         WHERE NOT EXISTS (SELECT 1 FROM found)
        RETURNING id),
    cust AS (
        SELECT id FROM upd UNION ALL SELECT id FROM ins),
    b AS (
        INSERT INTO bookings (organization_id, service_id, customer_id, starts_at, ends_at,
                              status, notes, source, external_ref)
        SELECT org, service, cust.id, to_timestamp(start_at), to_timestamp(finish), b_status,
               b_notes, coalesce(b_source, 'api'), b_external_ref
          FROM cust
        RETURNING id, starts_at, ends_at, created_at),
    o AS (
        INSERT INTO occupancy (organization_id, resource_id, booking_id, occupied, starts_at,
                               ends_at, booking_created_at)
        SELECT org, r, b.id, tstzrange(to_timestamp(start_at - pad_before),
                                       to_timestamp(finish + pad_after)),
               b.starts_at, b.ends_at, b.created_at
          FROM b, unnest(resource_ids) r),
    a AS (
        INSERT INTO booking_audit (organization_id, booking_id, actor, action, new_value)
        SELECT org, b.id, audit_actor, 'create',
               jsonb_build_object('start', to_timestamp(start_at), 'end', to_timestamp(finish),
                                  'resource_ids', to_jsonb(resource_ids), 'status', b_status,
                                  'notes', b_notes)
          FROM b)
    SELECT b.id INTO booking FROM b;
    answer := slotd_booking_answer(org, booking, zone);
    IF answer IS NULL THEN
        RAISE EXCEPTION 'booking % was not written', booking;
    END IF;
    answer_status := 201;
    outcome := 'created';
    SELECT string_agg(r::text, ',' ORDER BY r) INTO resources
      FROM (SELECT DISTINCT r FROM unnest(resource_ids) r) one;
    IF idem_key IS NOT NULL THEN
        INSERT INTO idempotency_keys (organization_id, key, request_hash, status_code,
                                      response, completed_at)
        VALUES (org, idem_key, req_hash, 201, answer, now());
    END IF;
END $$;
