-- api.lua — the wrk script of the load test (tests/load/run.py): one mix of API calls
-- per connection while a run trains.
--   7 in 10 requests read: the runs list, the training run, its metrics series;
--   1 in 10 creates a run (a valid ring8 spec) and the next request on that thread
--   cancels it, so nothing queues behind the training run for ever.
-- LOAD_RUN is the training run's id; LOAD_DELAY_MS the pause of a connection between
-- two requests (think time; 0: as fast as possible).
-- done() prints one line "wrk-json {...}" with the counts and latencies for run.py.

local run_id = os.getenv("LOAD_RUN") or "1"
local delay_ms = tonumber(os.getenv("LOAD_DELAY_MS") or "0")
local spec = '{"name":"load-probe","dataset":{"name":"ring8"},"train":{"steps":50},' ..
             '"every":{"log":10,"sample":0,"checkpoint":0,"eval":0}}'
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    n = 0
    to_cancel = {}
    counts = {}
    created = 0
    canceled = 0
    s5xx = 0
end

function delay()
    return delay_ms
end

function request()
    n = n + 1
    if #to_cancel > 0 then
        local id = table.remove(to_cancel, 1)
        return wrk.format("POST", "/api/v1/runs/" .. id .. "/cancel")
    end
    local k = n % 10
    if k == 0 then
        return wrk.format("POST", "/api/v1/runs", {["Content-Type"] = "application/json"}, spec)
    elseif k <= 3 then
        return wrk.format("GET", "/api/v1/runs?limit=20")
    elseif k <= 6 then
        return wrk.format("GET", "/api/v1/runs/" .. run_id)
    else
        return wrk.format("GET", "/api/v1/runs/" .. run_id ..
                          "/metrics?name=loss_d&name=loss_g&name=images_per_s&max_points=200")
    end
end

function response(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
    if status >= 500 then
        s5xx = s5xx + 1
    end
    if status == 201 then
        created = created + 1
        local id = string.match(body, '^{"id":(%d+)')
        if id then
            table.insert(to_cancel, id)
        end
    elseif status == 200 and string.sub(body, 1, 6) == '{"id":' and
           string.find(body, '"name":"load-probe"', 1, true) and
           string.find(body, '"status":"canceled"', 1, true) then
        canceled = canceled + 1
    end
end

function done(summary, latency, requests)
    local c5, made, gone = 0, 0, 0
    local by_status = {}
    for _, t in ipairs(threads) do
        c5 = c5 + t:get("s5xx")
        made = made + t:get("created")
        gone = gone + t:get("canceled")
        for code, k in pairs(t:get("counts")) do
            by_status[#by_status + 1] = string.format('"%d":%d', code, k)
        end
    end
    local e = summary.errors
    io.write(string.format(
        'wrk-json {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,' ..
        '"p99_us":%d,"max_us":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
        '"timeouts":%d,"non_2xx_3xx":%d,"s5xx":%d,"created":%d,"canceled":%d,' ..
        '"by_status":{%s}}\n',
        summary.requests, summary.duration, summary.bytes, latency:percentile(50),
        latency:percentile(90), latency:percentile(99), latency.max, e.connect, e.read, e.write,
        e.timeout, e.status, c5, made, gone, table.concat(by_status, ",")))
end
