-- load.lua - wrk script of tests/load/run_load.py (issue 6, item 4).
--
-- Rotates through the requests listed in the file named by
-- $CKA_LOAD_REQUESTS, one a line: "<kind>\t<path>\t<token>" (empty token:
-- no Authorization header). Each request carries "X-Load-Kind: <kind>";
-- the server under test echoes it back (mod_headers "Header always echo",
-- on 401/403 answers too), so response() can count every answer by the
-- kind of token it answers, whatever order the connections finish in.
--
-- done() prints machine-readable lines that run_load.py parses:
--   CKA-COUNT <kind> <status> <n>      answers per token kind and status
--   CKA-ERRORS connect=.. read=.. write=.. status=.. timeout=..
--   CKA-SUMMARY requests=.. duration_us=.. bytes=..
--   CKA-LATENCY p50_us=.. p90_us=.. p99_us=.. max_us=..
--
--   CKA_LOAD_REQUESTS=reqs.tsv wrk -t2 -c64 -d60s --timeout 10s -s load.lua http://127.0.0.1:8080

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("thread_index", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

local reqs = {}
local n = 0
local i = 0
counts = {}     -- "<kind> <status>" -> answers (per thread; merged in done())

function init(args)
   local path = os.getenv("CKA_LOAD_REQUESTS")
   local close = os.getenv("CKA_LOAD_CLOSE") == "1"
   for line in io.lines(path) do
      local kind, p, tok = line:match("^([^\t]+)\t([^\t]+)\t(.*)$")
      if kind ~= nil then
         local h = { ["X-Load-Kind"] = kind }
         if tok ~= "" then
            h["Authorization"] = "Bearer " .. tok
         end
         if close then
            h["Connection"] = "close"
         end
         n = n + 1
         reqs[n] = wrk.format("GET", p, h)
      end
   end
   if n == 0 then
      error("no requests in " .. tostring(path))
   end
   -- each thread starts at its own offset
   i = ((thread_index or 0) * 7919) % n
end

function request()
   i = i + 1
   if i > n then
      i = 1
   end
   return reqs[i]
end

function response(status, headers, body)
   local kind = headers["X-Load-Kind"] or headers["x-load-kind"] or "untagged"
   local key = kind .. " " .. status
   counts[key] = (counts[key] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      local c = t:get("counts")
      if c ~= nil then
         for k, v in pairs(c) do
            total[k] = (total[k] or 0) + v
         end
      end
   end
   for k, v in pairs(total) do
      io.write(string.format("CKA-COUNT %s %d\n", k, v))
   end
   local e = summary.errors
   io.write(string.format("CKA-ERRORS connect=%d read=%d write=%d status=%d timeout=%d\n",
                          e.connect, e.read, e.write, e.status, e.timeout))
   io.write(string.format("CKA-SUMMARY requests=%d duration_us=%d bytes=%d\n",
                          summary.requests, summary.duration, summary.bytes))
   io.write(string.format("CKA-LATENCY p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
                          latency:percentile(50), latency:percentile(90),
                          latency:percentile(99), latency.max))
end
