-- tokens.lua - wrk script: GET wrk.path with "Authorization: Bearer <token>",
-- the tokens taken in rotation from the file named by $CKA_BENCH_TOKENS
-- (one token a line; $CKA_BENCH_SCHEME replaces "Bearer", e.g. "Basic"
-- for client credentials). Every variant of the benchmark runs this same script
-- (the no-auth baseline with a one-token file too), so the client does the
-- same work whatever the server does.
--
--   CKA_BENCH_TOKENS=tokens.txt wrk -t2 -c32 -d10s -s tokens.lua http://127.0.0.1:8080/small.txt
--
-- The requests are formatted once, in init(); request() only picks the
-- next one. Each thread starts at its own offset so that two threads do
-- not send the same token at the same moment.

local counter = 0

function setup(thread)
   thread:set("thread_index", counter)
   counter = counter + 1
end

local reqs = {}
local n = 0
local i = 0

function init(args)
   local path = os.getenv("CKA_BENCH_TOKENS")
   local scheme = os.getenv("CKA_BENCH_SCHEME")
   if scheme == nil or scheme == "" then
      scheme = "Bearer"
   end
   if path ~= nil and path ~= "" then
      for line in io.lines(path) do
         if #line > 0 then
            n = n + 1
            -- "token<TAB>proof": a DPoP request (issue 16), proof in the DPoP header
            local tok, proof = line:match("^([^\t]+)\t(.+)$")
            if proof ~= nil then
               reqs[n] = wrk.format("GET", nil, { ["Authorization"] = scheme .. " " .. tok,
                                                  ["DPoP"] = proof })
            else
               reqs[n] = wrk.format("GET", nil, { ["Authorization"] = scheme .. " " .. line })
            end
         end
      end
   end
   if n == 0 then
      n = 1
      reqs[1] = wrk.format("GET", nil)
   end
   -- thread_index is set by setup() in this thread's environment
   i = ((thread_index or 0) * 7919) % n
   -- $CKA_BENCH_PARTITION=<threads>: each thread sends its own share of the
   -- lines (i = thread, thread + threads, ...), so that no line is sent
   -- twice before the list wraps (DPoP proofs are single-use).
   step = tonumber(os.getenv("CKA_BENCH_PARTITION") or "")
   if step ~= nil then
      i = (thread_index or 0) + 1 - step
   else
      step = 1
   end
end

function request()
   i = i + step
   if i > n then
      i = ((i - 1) % step) + 1
   end
   return reqs[i]
end
