-- wrk script for scripts/bench: every request carries the next of N distinct bearer tokens,
-- round-robin, so with N larger than the gateway's verified-token cache (4,096 per worker)
-- every request pays for signature verification, as nginx+njs does.
--   wrk ... -s tokens.lua URL -- TOKENFILE      (one token per line)
-- The report.lua done() hook next to this file prints the exact figures.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")

local tokens = {}
local n, i = 0, 0

init = function(args)
   for line in io.lines(args[1]) do
      if #line > 0 then
         n = n + 1
         tokens[n] = "Bearer " .. line
      end
   end
   if n == 0 then error("tokens.lua: no tokens in " .. tostring(args[1])) end
   i = math.random(n) - 1  -- each thread starts somewhere else
end

request = function()
   i = i % n + 1
   wrk.headers["Authorization"] = tokens[i]
   return wrk.format()
end
