-- wrk script of bench/agent_bench.sh: the same question asked over REST and
-- over MCP, each answer checked as it comes.
--
--   wrk ... -s bench/agent_bench.lua URL -- MODE API_KEY ARGUMENTS...
--
--   slots-rest  SERVICE_ID DAY        GET /v1/slots?service_id=&from=DAY&to=DAY&limit=5
--   slots-mcp   SERVICE DAY           POST /mcp tools/call find_slots {service, date: DAY}
--                                     (SERVICE an id or a name)
--   book-rest   RESOURCES_FILE SERVICE_ID FIRST_EPOCH STEP_SECONDS THREADS
--                                     POST /v1/bookings (no Idempotency-Key)
--   book-mcp    RESOURCES_FILE SERVICE_ID FIRST_EPOCH STEP_SECONDS THREADS
--                                     POST /mcp tools/call book_appointment, staff by id
--
-- The booking modes book a slot no other request of the run asks for, as
-- bench/booking_bench.lua does: request n of thread t (n = 0, 1, ...; t = 1 ..
-- THREADS) books slot g = n * THREADS + t - 1, resource g mod R, start
-- FIRST_EPOCH + floor(g / R) * STEP_SECONDS, a customer of its own.
--
-- An answer is wrong when its status is not the one expected (200, 201 for
-- POST /v1/bookings), when GET /v1/slots has no slots, or, over MCP, when it is
-- not `"isError":false` with slots (find_slots) or `"booked":true`
-- (book_appointment). done() prints
-- "answers N wrong W" (N counted by every thread's response()), and the first
-- wrong answer, for the script to check.

local threads_seen = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
    threads_seen[#threads_seen + 1] = thread
end

local function json_post(path, body)
    return wrk.format("POST", path, {
        ["Authorization"] = authorization,
        ["Content-Type"] = "application/json",
        ["Accept"] = "application/json, text/event-stream"
    }, body)
end

local function mcp_call(tool, arguments)
    return string.format(
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","arguments":%s}}',
        tool, arguments)
end

function init(args)
    mode = args[1]
    authorization = "Bearer " .. args[2]
    answers = 0
    wrong = 0
    first_wrong = ""
    n = 0
    if mode == "slots-rest" then
        wrk.headers["Authorization"] = authorization
        fixed = wrk.format("GET", string.format(
            "/v1/slots?service_id=%s&from=%s&to=%s&limit=5", args[3], args[4], args[4]))
        expected_status = 200
        expected_text = { '"slots":[{' }
    elseif mode == "slots-mcp" then
        fixed = json_post("/mcp", mcp_call("find_slots",
            string.format('{"service":"%s","date":"%s"}', args[3], args[4])))
        expected_status = 200
        expected_text = { '"isError":false', '"slots":[{' }
    elseif mode == "book-rest" or mode == "book-mcp" then
        resources = {}
        for line in io.lines(args[3]) do
            if line ~= "" then
                resources[#resources + 1] = line
            end
        end
        assert(#resources > 0, "no resource ids in " .. args[3])
        service = args[4]
        first = tonumber(args[5])
        step = tonumber(args[6])
        threads = tonumber(args[7])
        if mode == "book-rest" then
            expected_status = 201
        else
            expected_status = 200
            expected_text = { '"isError":false', '"booked":true' }
        end
    else
        error("unknown mode " .. tostring(mode))
    end
end

function request()
    if fixed then
        return fixed
    end
    local g = n * threads + id - 1
    n = n + 1
    local resource = resources[g % #resources + 1]
    local start = os.date("!%Y-%m-%dT%H:%M:%SZ", first + math.floor(g / #resources) * step)
    if mode == "book-rest" then
        return json_post("/v1/bookings", string.format(
            '{"service_id":"%s","start":"%s","resource_ids":["%s"],' ..
            '"customer":{"name":"Client %d","phone":"+48 5%08d"},"source":"api"}',
            service, start, resource, g, g))
    end
    return json_post("/mcp", mcp_call("book_appointment", string.format(
        '{"service":"%s","start":"%s","staff":"%s",' ..
        '"customer_name":"Caller %d","customer_phone":"+48 6%08d"}',
        service, start, resource, g, g)))
end

function response(status, headers, body)
    answers = answers + 1
    local ok = status == expected_status
    if ok and expected_text then
        for _, text in ipairs(expected_text) do
            if not string.find(body, text, 1, true) then
                ok = false
                break
            end
        end
    end
    if not ok then
        wrong = wrong + 1
        if first_wrong == "" then
            first_wrong = status .. " " .. string.sub(body or "", 1, 300)
        end
    end
end

function done(summary, latency, requests)
    local total, bad, sample = 0, 0, ""
    for _, thread in ipairs(threads_seen) do
        total = total + thread:get("answers")
        bad = bad + thread:get("wrong")
        if sample == "" then
            sample = thread:get("first_wrong")
        end
    end
    io.write(string.format("answers %d wrong %d\n", total, bad))
    if sample ~= "" then
        io.write("first wrong answer: " .. sample .. "\n")
    end
end
