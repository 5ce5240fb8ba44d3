-- The booking function (migration 0010) with two statements fewer for every
-- new booking with an Idempotency-Key, the same outcomes:
--   - the key is read once, whatever its age: a key past its 24 hours is
--     deleted then (as before, by a statement of its own, now only when there
--     is one) and the request is new; a completed one is replayed or refused;
--   - the customer's and the resources' locks are taken in its own body, in
--     the order slotd_take_locks takes them (holds and reschedules still call
--     it), instead of through a call.
-- Besides, customers_email indexes only the customers who have an email (a
-- lookup by email never looks for NULL): a customer known by phone alone
-- writes one index entry less.
CREATE OR REPLACE FUNCTION slotd_book(
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
        SELECT * INTO kept FROM idempotency_keys
         WHERE organization_id = org AND key = idem_key;
        IF FOUND AND kept.created_at <= now() - interval '24 hours' THEN
            DELETE FROM idempotency_keys
             WHERE organization_id = org AND key = idem_key
               AND created_at <= now() - interval '24 hours';
        ELSIF FOUND AND kept.completed_at IS NOT NULL THEN
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
    -- slotd_take_locks, written out (one call less)
    PERFORM count(pg_advisory_xact_lock(k))
       FROM (SELECT 0 AS step, NULL::uuid AS resource,
                    hashtextextended(org::text || ':customer:'
                                     || lower(coalesce(c_phone_normalized, c_email)), 0) AS k
             UNION ALL
             SELECT DISTINCT 1, r, hashtextextended(org::text || ':resource:' || r::text, 0)
               FROM unnest(resource_ids) r
              ORDER BY step, resource) locks;
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

CREATE INDEX customers_email_given ON customers (organization_id, lower(email))
    WHERE email IS NOT NULL;
DROP INDEX customers_email;
ALTER INDEX customers_email_given RENAME TO customers_email;
