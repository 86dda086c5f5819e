-- `POST /activity` as a connector sends it, for wrk: a 1.5 KiB JSON body
-- (1,536 bytes exactly), a fresh session id and `Idempotency-Key` per
-- request, and the seed's API key. `benches/wrk/run.sh` runs it; by hand:
--
--   wrk -t2 -c16 -d10s -s benches/wrk/create.lua http://127.0.0.1:PORT
--
-- Every answer should be 201; wrk counts any other as "Non-2xx or 3xx".

local BODY_BYTES = 1536
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("thread_number", threads)
end

local prefix
local sent = 0

function init(args)
   -- Unique across threads and runs on the same database, so every
   -- request is a create and none a replay.
   math.randomseed(os.time() * 100 + thread_number)
   prefix = string.format("wrk-%d-%d-%d", os.time(), thread_number, math.random(1, 1000000000))
end

local WORDS = { "customer", "renewal", "invoice", "asked", "about", "the", "pricing",
   "tier", "and", "confirmed", "delivery", "next", "week", "follow", "up", "with",
   "a", "quote", "for", "twelve", "seats", "escalate", "billing", "thanks" }

-- Words to pad each body with, made once per thread.
local filler = {}
for i = 1, 400 do
   filler[i] = WORDS[(i * 7) % #WORDS + 1]
end
filler = table.concat(filler, " ")

-- The body around the session id, padded to BODY_BYTES.
local function body_for(session)
   local head = '{"subject":"Outbound Call to Jane Contact [+14155550199]",' ..
      '"body_format":"text/plain","type":"PhoneCommunication",' ..
      '"received_at":"2024-01-15T15:30:00Z","contact_id":"contact-1",' ..
      '"session_id":"' .. session .. '","direction":"Outbound","duration":125,' ..
      '"body":"- Session Id: ' .. session .. '\\n- Summary: Outbound Call\\n' ..
      '- Duration: 2 minutes, 5 seconds\\n- Result: Call connected\\n- AI Note:\\n'
   local tail = '"}'
   return head .. string.sub(filler, 1, BODY_BYTES - #head - #tail) .. tail
end

function request()
   sent = sent + 1
   local session = prefix .. "-" .. sent
   return wrk.format("POST", "/activity", {
      ["Authorization"] = "Basic bW9ja2NybS1kZXYta2V5Og==",
      ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = "call-" .. session,
   }, body_for(session))
end
