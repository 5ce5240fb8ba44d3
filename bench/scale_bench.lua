-- wrk script of bench/scale_bench.sh: every request is a line picked at random
-- from a file of "PATH<TAB>API_KEY" lines (each organization has its own key).
--
--   wrk ... -s bench/scale_bench.lua URL -- LINES_FILE

local paths, keys = {}, {}
local counter = 0

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
    math.randomseed(7919 * id)
end

function request()
    local i = math.random(#paths)
    return wrk.format("GET", paths[i], { ["Authorization"] = "Bearer " .. keys[i] })
end
