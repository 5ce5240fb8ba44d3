-- pgbench script of bench/booking_bench.sh (run with -M prepared): the
-- ceiling, one transaction of one one-row INSERT, committed (fsync on).
INSERT INTO booking_bench_ceiling (client, payload) VALUES (:client_id, 'one row');
