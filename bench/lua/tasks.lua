-- wrk script for the Task API: every request is sent as a random user, with that user's token.
--
--   SCENARIO=list wrk -t1 -c32 -d10s --latency -s lua/tasks.lua http://127.0.0.1:18080
--
-- Scenarios:
--   list           GET /api/tasks?limit=20                      (the 20 newest)
--   list-filtered  GET /api/tasks?<FILTERED_QUERY>&cursor=<c>   (page 2 of a filtered, sorted list)
--   get            GET /api/tasks/{id}                          (one of the user's fetched ids)
--   create         POST /api/tasks {title, description, priority, tags}
--   update         PATCH /api/tasks/{id} {"title":"Updated N","completed":true|false}
--   mixed          MIX % of list, get, create, update (default 60,20,10,10)
--   reminders      GET /api/reminders?limit=20                  (the reminders poll: due now)
--   complete-recurring  PATCH /api/tasks/{id} {"completed":true} on an open recurring task, which
--                  makes its next occurrence; the next one (the answer's Link) replaces it
--   mcp-list       POST /mcp, the MCP tool call list_tasks {"limit":20}: list through the MCP endpoint
--   list-sort:ORDER  GET /api/tasks?sort=ORDER&limit=20          (ORDER: any sort order, e.g. -title)
--   list-q         GET /api/tasks?q=Task%20<t>%20of&limit=20     (t random in 1..TASKS_PER_USER: the
--                  one task titled "Task t of user-N", so the search reads all of the user's tasks)
--   list-tag       GET /api/tasks?tag=work&limit=20              (a third of the seeded tasks)
--   list-due       GET /api/tasks?<DUE_QUERY>                    (a due-date window, sort=due_date)
--   changes        GET /api/changes?since=<c>&limit=CHANGES_LIMIT (the change feed from the user's cursor)
-- Env: SCENARIO, TOKENS_FILE ("user token" lines), IDS_FILE ("user id id ..."; get/update/mixed;
--      complete-recurring: RECURRING_FILE, the same shape),
--      CURSORS_FILE ("user cursor"; list-filtered), FILTERED_QUERY (status=pending&sort=-due_date&limit=20),
--      CHANGES_FILE ("user cursor"; changes), CHANGES_LIMIT (10), TASKS_PER_USER (100; list-q),
--      DUE_QUERY (list-due; run.sh works it out from the data), LIST_LIMIT (20), MIX (60,20,10,10).
-- Any response that is not 2xx counts as an error (report.lua prints the RESULT line).

local scenario = os.getenv("SCENARIO") or "list"
local tokens_file = os.getenv("TOKENS_FILE") or "data/tokens.txt"
local ids_file = os.getenv("IDS_FILE") or "data/ids.txt"
local cursors_file = os.getenv("CURSORS_FILE") or "data/cursors.txt"
local list_path = "/api/tasks?limit=" .. (os.getenv("LIST_LIMIT") or "20")
local filtered_path = "/api/tasks?" .. (os.getenv("FILTERED_QUERY") or "status=pending&sort=-due_date&limit=20") .. "&cursor="

local mix = {}
for n in string.gmatch(os.getenv("MIX") or "60,20,10,10", "%d+") do mix[#mix + 1] = tonumber(n) end
local cut_list, cut_get, cut_create = mix[1], mix[1] + mix[2], mix[1] + mix[2] + mix[3]

local known = { list = true, ["list-filtered"] = true, get = true, create = true, update = true, mixed = true,
  reminders = true, ["complete-recurring"] = true, ["mcp-list"] = true, ["list-q"] = true, ["list-tag"] = true,
  ["list-due"] = true, changes = true }
-- list-sort:ORDER, for each value of the spec's SortOrder but the Phase II alias `created`
local sort_orders = { created_at = true, ["-created_at"] = true, updated_at = true, ["-updated_at"] = true,
  title = true, ["-title"] = true, priority = true, ["-priority"] = true, due_date = true, ["-due_date"] = true }
local sort_order = string.match(scenario, "^list%-sort:(.+)$")
if sort_order and sort_orders[sort_order] then known[scenario] = true end
local needs_ids = (scenario == "get" or scenario == "update" or scenario == "mixed" or scenario == "complete-recurring")
if scenario == "complete-recurring" then ids_file = os.getenv("RECURRING_FILE") or "data/recurring.txt" end
local needs_cursor = (scenario == "list-filtered" or scenario == "changes")
if scenario == "changes" then cursors_file = os.getenv("CHANGES_FILE") or "data/changes.txt" end
local tasks_per_user = tonumber(os.getenv("TASKS_PER_USER") or "100")
local due_query = os.getenv("DUE_QUERY") or ""
local changes_limit = os.getenv("CHANGES_LIMIT") or "10"

local users = {}
local counter = 0

local function read_lines(path)
  local f = io.open(path, "r")
  if not f then
    io.stderr:write("tasks.lua: cannot open " .. path .. "\n")
    os.exit(2)
  end
  local lines = {}
  for line in f:lines() do
    local fields = {}
    for w in string.gmatch(line, "%S+") do fields[#fields + 1] = w end
    if #fields >= 2 then lines[#lines + 1] = fields end
  end
  f:close()
  return lines
end

function init(args)
  if not known[scenario] then
    io.stderr:write("tasks.lua: unknown SCENARIO " .. scenario .. "\n")
    os.exit(2)
  end
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919)
  local by_user = {}
  for _, f in ipairs(read_lines(tokens_file)) do
    by_user[f[1]] = { auth = "Bearer " .. f[2], ids = {} }
  end
  if needs_ids then
    for _, f in ipairs(read_lines(ids_file)) do
      local u = by_user[f[1]]
      if u then for i = 2, #f do u.ids[#u.ids + 1] = f[i] end end
    end
  end
  if needs_cursor then
    for _, f in ipairs(read_lines(cursors_file)) do
      local u = by_user[f[1]]
      if u then u.cursor = f[2] end
    end
  end
  for _, u in pairs(by_user) do
    if (not needs_ids or #u.ids > 0) and (not needs_cursor or u.cursor) then users[#users + 1] = u end
  end
  if scenario == "list-due" and due_query == "" then
    io.stderr:write("tasks.lua: list-due needs DUE_QUERY (the user's tasks have no due dates?)\n")
    os.exit(2)
  end
  if #users == 0 then
    io.stderr:write("tasks.lua: no usable users (tokens/ids/cursors files empty or not matching)\n")
    os.exit(2)
  end
end

local json_ct = "application/json"

local function op_list(u)
  return wrk.format("GET", list_path, { ["Authorization"] = u.auth })
end

local function op_filtered(u)
  return wrk.format("GET", filtered_path .. u.cursor, { ["Authorization"] = u.auth })
end

local function op_get(u)
  return wrk.format("GET", "/api/tasks/" .. u.ids[math.random(#u.ids)], { ["Authorization"] = u.auth })
end

local function op_create(u)
  counter = counter + 1
  local body = string.format(
    '{"title":"Bench task %d","description":"Created by the load test: lorem ipsum dolor sit amet.","priority":"high","tags":["bench"]}',
    counter)
  return wrk.format("POST", "/api/tasks", { ["Authorization"] = u.auth, ["Content-Type"] = json_ct }, body)
end

local function op_update(u)
  counter = counter + 1
  local body = string.format('{"title":"Updated %d","completed":%s}', counter,
    (math.random(2) == 1) and "true" or "false")
  return wrk.format("PATCH", "/api/tasks/" .. u.ids[math.random(#u.ids)],
    { ["Authorization"] = u.auth, ["Content-Type"] = json_ct }, body)
end

local function op_reminders(u)
  return wrk.format("GET", "/api/reminders?limit=20", { ["Authorization"] = u.auth })
end

-- Completing an occurrence makes the next one, which the answer's Link names: it takes the
-- completed one's place in the user's ids, so that every request completes an open occurrence.
-- The answer's body says which task it was (wrk's response callback knows no connection).
local in_flight = {}

local function op_complete(u)
  local i = math.random(#u.ids)
  in_flight[u.ids[i]] = { u = u, i = i }
  return wrk.format("PATCH", "/api/tasks/" .. u.ids[i],
    { ["Authorization"] = u.auth, ["Content-Type"] = json_ct }, '{"completed":true}')
end

if scenario == "complete-recurring" then
  function response(status, headers, body)
    local id = string.match(body or "", '"id":"([0-9a-f-]+)"')
    local slot = id and in_flight[id]
    if not slot then return end
    in_flight[id] = nil
    local next_id = string.match(headers["Link"] or "", "</api/tasks/([0-9a-f-]+)>")
    if next_id and slot.u.ids[slot.i] == id then slot.u.ids[slot.i] = next_id end
  end
end

-- A stateless MCP server takes a tools/call without a session: one HTTP request per call, as
-- an agent's client sends it (without initialize: that is one request per conversation).
local function op_mcp_list(u)
  counter = counter + 1
  return wrk.format("POST", "/mcp", { ["Authorization"] = u.auth, ["Content-Type"] = json_ct,
      ["Accept"] = "application/json, text/event-stream", ["Mcp-Protocol-Version"] = "2025-11-25" },
    '{"jsonrpc":"2.0","id":' .. counter .. ',"method":"tools/call","params":{"name":"list_tasks","arguments":{"limit":20}}}')
end

local function op_sort(u)
  return wrk.format("GET", "/api/tasks?sort=" .. sort_order .. "&limit=20", { ["Authorization"] = u.auth })
end

local function op_q(u)
  return wrk.format("GET", "/api/tasks?q=Task%20" .. math.random(tasks_per_user) .. "%20of&limit=20",
    { ["Authorization"] = u.auth })
end

local function op_tag(u)
  return wrk.format("GET", "/api/tasks?tag=work&limit=20", { ["Authorization"] = u.auth })
end

local function op_due(u)
  return wrk.format("GET", "/api/tasks?" .. due_query, { ["Authorization"] = u.auth })
end

local function op_changes(u)
  return wrk.format("GET", "/api/changes?since=" .. u.cursor .. "&limit=" .. changes_limit, { ["Authorization"] = u.auth })
end

local ops = { list = op_list, ["mcp-list"] = op_mcp_list, ["list-filtered"] = op_filtered, get = op_get, create = op_create, update = op_update,
  reminders = op_reminders, ["complete-recurring"] = op_complete, ["list-q"] = op_q, ["list-tag"] = op_tag,
  ["list-due"] = op_due, changes = op_changes }
if sort_order then ops[scenario] = op_sort end

function request()
  local u = users[math.random(#users)]
  if scenario == "mixed" then
    local r = math.random(100)
    if r <= cut_list then return op_list(u)
    elseif r <= cut_get then return op_get(u)
    elseif r <= cut_create then return op_create(u)
    else return op_update(u) end
  end
  return ops[scenario](u)
end

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "report.lua")
