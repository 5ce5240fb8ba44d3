-- wrk script of bench/http_bench.sh: every request asks GET /v1/slots for a
-- window picked at random from a file of request paths (one a line).
--
--   wrk ... -s bench/http_bench.lua URL -- PATHS_FILE API_KEY

local paths = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
end

function init(args)
    for line in io.lines(args[1]) do
        if line ~= "" then
            paths[#paths + 1] = line
        end
    end
    assert(#paths > 0, "no request paths in " .. args[1])
    wrk.headers["Authorization"] = "Bearer " .. args[2]
    math.randomseed(7919 * id)
end

function request()
    return wrk.format("GET", paths[math.random(#paths)])
end
