-- API intake over HTTP: POST /api/v1/tickets/ with a unique Idempotency-Key per request.
--
-- On a database seeded with `seed_demo --tickets N --seed 1` (its customer KS10001 owns order
-- KS202611150001; the subject routes to the quality team):
--   TOKEN=$(python manage.py create_integration_account bench_gateway --kind channel)
--   DEBUG=false SECRET_KEY=... DATABASE_URL=postgres://.../DB \
--       .venv/bin/gunicorn cs_console.wsgi -w 2 -b 127.0.0.1:8731 &
--   TOKEN=$TOKEN wrk -t2 -c8 -d30s --latency -s bench/intake_wrk.lua http://127.0.0.1:8731
-- Every request opens a ticket: use a database you may write. Results: RESULTS.md.
local counter = 0
local threads = {}
local run = os.time()

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("TOKEN")
  prefix = os.getenv("KEYPREFIX") or tostring(run)
end

local body = '{"channel": "app", "customer": {"external_id": "KS10001", "name": "林晓雨", "phone": "13812345678"}, "order_number": "KS202611150001", "subject": "收到的耳机左耳没有声音", "description": "左耳没有声音，已重新配对，仍然无效。", "category": "quality_malfunction", "priority": 2}'

function request()
  counter = counter + 1
  local headers = {}
  headers["Authorization"] = "Token " .. token
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = prefix .. "-" .. tid .. "-" .. counter
  return wrk.format("POST", "/api/v1/tickets/", headers, body)
end

statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do io.write(string.format("status %s: %d\n", k, v)) end
  end
end
