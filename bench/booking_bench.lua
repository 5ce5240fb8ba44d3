-- wrk script of bench/booking_bench.sh: every request is a POST /v1/bookings of
-- a slot no other request of the run asks for, with its own customer and its
-- own Idempotency-Key.
--
--   wrk -t THREADS ... -s bench/booking_bench.lua URL -- \
--       RESOURCES_FILE SERVICE_ID API_KEY FIRST_EPOCH STEP_SECONDS THREADS RUN
--
-- Request n of thread t (n = 0, 1, ...; t = 1 .. THREADS) books slot
-- g = n * THREADS + t - 1: resource g mod R (R resources, one id a line of
-- RESOURCES_FILE), start FIRST_EPOCH + floor(g / R) * STEP_SECONDS. Each
-- resource must work around the clock from FIRST_EPOCH on, so every one of
-- those starts is a free slot. RUN (a word) keeps the keys of two runs apart;
-- "-" sends no Idempotency-Key.

local resources = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    for line in io.lines(args[1]) do
        if line ~= "" then
            resources[#resources + 1] = line
        end
    end
    assert(#resources > 0, "no resource ids in " .. args[1])
    service = args[2]
    authorization = "Bearer " .. args[3]
    first = tonumber(args[4])
    step = tonumber(args[5])
    threads = tonumber(args[6])
    run = args[7]
    n = 0
end

function request()
    local g = n * threads + id - 1
    n = n + 1
    local resource = resources[g % #resources + 1]
    local start = first + math.floor(g / #resources) * step
    local body = string.format(
        '{"service_id":"%s","start":"%s","resource_ids":["%s"],' ..
        '"customer":{"name":"Client %d","phone":"+48 5%08d"},"source":"api"}',
        service, os.date("!%Y-%m-%dT%H:%M:%SZ", start), resource, g, g)
    local headers = {
        ["Authorization"] = authorization,
        ["Content-Type"] = "application/json"
    }
    if run ~= "-" then
        headers["Idempotency-Key"] = string.format("%s-%d", run, g)
    end
    return wrk.format("POST", "/v1/bookings", headers, body)
end
