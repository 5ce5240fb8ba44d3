-- wrk script of bench/scale_bench.sh: every request is a line picked at random
-- from a file of "PATH<TAB>API_KEY" lines (each organization has its own key).
-- With a LIMIT, the thread stops after that many responses (wrk still waits out
-- its -d), so that every round of the benchmark measures the same number of
-- queries. Prints one line at the end:
--   result REQUESTS P50_US P99_US NON_2XX
--
--   wrk -t1 ... -s bench/scale_bench.lua URL -- LINES_FILE [LIMIT]

local paths, keys = {}, {}
local counter = 0
local limit, responses = 0, 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    for line in io.lines(args[1]) do
        local path, key = line:match("^(%S+)\t(%S+)$")
        if path then
            paths[#paths + 1] = path
            keys[#keys + 1] = key
        end
    end
    assert(#paths > 0, "no request lines in " .. args[1])
    limit = tonumber(args[2] or "0")
    math.randomseed(7919 * id)
end

function request()
    local i = math.random(#paths)
    return wrk.format("GET", paths[i], { ["Authorization"] = "Bearer " .. keys[i] })
end

function response(status, headers, body)
    responses = responses + 1
    if responses == limit then
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    io.write(string.format("result %d %.0f %.0f %d\n", summary.requests,
        latency:percentile(50), latency:percentile(99), summary.errors.status))
end
