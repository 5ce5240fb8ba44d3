-- pgbench script of bench/http_bench.sh (run with -M prepared): one call of
-- bench_slots for a 7-day window starting on a random local date, the
-- same windows the wrk side asks slotd for.
--
-- Variables (-D): org, service, zone, first (the first window's date), days
-- (how many start dates), now (the frozen clock).
\set day random(0, :days - 1)
SELECT count(*)
  FROM (SELECT CAST(:first AS date) + CAST(:day AS integer) AS day, CAST(:zone AS text) AS zone) w,
       bench_slots(CAST(:org AS uuid), CAST(:service AS uuid),
                   w.day::timestamp AT TIME ZONE w.zone,
                   (w.day + 7)::timestamp AT TIME ZONE w.zone,
                   CAST(:now AS timestamptz));
