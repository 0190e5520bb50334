"""The timeline's Lua scripts: append (with its secondary indexes and trimming) and the
indexed reads. Each runs atomically in Redis; :mod:`broadcast.timeline` calls them.

Secondary indexes (issue 10: a narrow ``/api/timeline`` filter scanned the whole stream):

* ``{s}:i:<kind>:<pref>``, ``{s}:i:*:<pref>`` and ``{s}:i:<kind>:*``: sorted sets (all
  scores 0, ordered by member) of the ids of the entries of that kind and/or tagged with
  that prefecture, written in the append script, so they never disagree with the stream
  (a replacing entry is indexed under its merged prefs, as it is stored);
* ``{s}:subjects``: ``<len>:<subject>:<id>`` for entries whose payload names a subject
  (its top-level ``event_id``), to find an event's entries without a scan;
* ``{s}:indexes``: the names of the index sets (so :meth:`Timeline.expire` finds them);
* ``{s}:indexed``: set once every retained entry is indexed (new streams at their first
  append; older streams by :meth:`Timeline.build_index`).

Members are ids with both parts zero-padded to 20 digits, so their byte order is the
stream's order. Trimming removes an entry's index members in the same script as the
entry. All keys share the stream's hash tag (one Redis Cluster slot).
"""

from __future__ import annotations

#: Shared Lua helpers. ``P`` is the index key prefix (``{s}:i:``).
_HELPERS = """
local function pad(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return string.rep('0', 20 - #ms) .. ms .. '-' .. string.rep('0', 20 - #seq) .. seq
end
local function unpad(member)
  local ms, seq = string.match(member, '(%d+)-(%d+)$')
  ms = string.gsub(ms, '^0+(%d)', '%1')
  seq = string.gsub(seq, '^0+(%d)', '%1')
  return ms .. '-' .. seq
end
local function index(P, registry, subjects, id, kind, prefs, subject, add)
  local m = pad(id)
  local keys = {P .. kind .. ':*'}
  for code in string.gmatch(prefs, '[^,]+') do
    keys[#keys + 1] = P .. kind .. ':' .. code
    keys[#keys + 1] = P .. '*:' .. code
  end
  for _, key in ipairs(keys) do
    if add then
      redis.call('ZADD', key, 0, m)
      redis.call('SADD', registry, key)
    else
      redis.call('ZREM', key, m)
    end
  end
  if subject ~= '' then
    local sm = #subject .. ':' .. subject .. ':' .. m
    if add then redis.call('ZADD', subjects, 0, sm) else redis.call('ZREM', subjects, sm) end
  end
end
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return ''
end
"""

#: KEYS: stream, keys, keytimes, floor, indexes, subjects, indexed.
#: ARGV: key, kind, prefs, payload, replaces, retention ms, key trim batch, subject,
#: index prefix, entry trim batch.
APPEND_LUA = (
    _HELPERS
    + """
local existing = redis.call('HGET', KEYS[2], ARGV[1])
if existing then return {existing, 0} end
if redis.call('XLEN', KEYS[1]) == 0 then redis.call('SET', KEYS[7], '1') end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local prefs = ARGV[3]
local payload = ARGV[4]
if ARGV[5] ~= '' then
  local ref = redis.call('HGET', KEYS[2], ARGV[5])
  if ref then
    local old = redis.call('XRANGE', KEYS[1], ref, ref)
    if #old > 0 then
      local old_prefs = field(old[1][2], 'p')
      if old_prefs ~= '' then
        local seen, out = {}, {}
        for code in string.gmatch(prefs .. ',' .. old_prefs, '[^,]+') do
          if not seen[code] then seen[code] = true; out[#out + 1] = code end
        end
        table.sort(out)
        prefs = table.concat(out, ',')
      end
    end
    if payload == '{}' then
      payload = '{"ref":"' .. ref .. '"}'
    else
      payload = '{"ref":"' .. ref .. '",' .. string.sub(payload, 2)
    end
  end
end
local id
if ARGV[8] ~= '' then
  id = redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 't', ARGV[2], 'p', prefs, 'd', payload,
                  's', ARGV[8])
else
  id = redis.call('XADD', KEYS[1], '*', 'k', ARGV[1], 't', ARGV[2], 'p', prefs, 'd', payload)
end
redis.call('HSET', KEYS[2], ARGV[1], id)
redis.call('ZADD', KEYS[3], now_ms, ARGV[1])
index(ARGV[9], KEYS[5], KEYS[6], id, ARGV[2], prefs, ARGV[8], true)
local min_ms = string.format('%.0f', now_ms - tonumber(ARGV[6]))
local old = redis.call('XRANGE', KEYS[1], '-', '(' .. min_ms .. '-0', 'COUNT', ARGV[10])
if #old > 0 then
  for _, row in ipairs(old) do
    local f = row[2]
    index(ARGV[9], KEYS[5], KEYS[6], row[1], field(f, 't'), field(f, 'p'), field(f, 's'), false)
  end
  local last = old[#old][1]
  redis.call('SET', KEYS[4], last)
  if #old < tonumber(ARGV[10]) then
    redis.call('XTRIM', KEYS[1], 'MINID', min_ms .. '-0')
  else
    local ms, seq = string.match(last, '^(%d+)-(%d+)$')
    redis.call('XTRIM', KEYS[1], 'MINID', ms .. '-' .. string.format('%.0f', tonumber(seq) + 1))
  end
end
local stale = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. min_ms, 'LIMIT', 0, ARGV[7])
if #stale > 0 then
  redis.call('HDEL', KEYS[2], unpack(stale))
  redis.call('ZREM', KEYS[3], unpack(stale))
end
return {id, 1}
"""
)

#: KEYS: stream, index sets to merge… ARGV: "newest" (newest first, before ARGV[2] or
#: "+") or "after" (oldest first, after ARGV[2]), the bound, limit.
#: Returns ``[rows, newest id]``: ``[id, [field, value, …]]`` rows like XRANGE, and the
#: stream's newest id ("0-0" when empty) as of the same instant.
READ_INDEXED_LUA = (
    _HELPERS
    + """
local limit = tonumber(ARGV[3])
local newest = ARGV[1] == 'newest'
local seen, members = {}, {}
for i = 2, #KEYS do
  local got
  if newest then
    local hi = ARGV[2] == '+' and '+' or '(' .. pad(ARGV[2])
    got = redis.call('ZREVRANGEBYLEX', KEYS[i], hi, '-', 'LIMIT', 0, limit)
  else
    got = redis.call('ZRANGEBYLEX', KEYS[i], '(' .. pad(ARGV[2]), '+', 'LIMIT', 0, limit)
  end
  for _, m in ipairs(got) do
    if not seen[m] then seen[m] = true; members[#members + 1] = m end
  end
end
if newest then table.sort(members, function(a, b) return a > b end) else table.sort(members) end
local rows = {}
for _, m in ipairs(members) do
  if #rows >= limit then break end
  local id = unpad(m)
  local row = redis.call('XRANGE', KEYS[1], id, id)
  if #row > 0 then rows[#rows + 1] = row[1] end
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
return {rows, #last > 0 and last[1][1] or '0-0'}
"""
)

#: KEYS: stream, subjects. ARGV: subject, limit. Newest first, XRANGE rows.
READ_SUBJECT_LUA = (
    _HELPERS
    + """
local prefix = #ARGV[1] .. ':' .. ARGV[1] .. ':'
local got = redis.call('ZREVRANGEBYLEX', KEYS[2], '[' .. prefix .. '\\255', '[' .. prefix,
                       'LIMIT', 0, tonumber(ARGV[2]))
local rows = {}
for _, m in ipairs(got) do
  local id = unpad(m)
  local row = redis.call('XRANGE', KEYS[1], id, id)
  if #row > 0 then rows[#rows + 1] = row[1] end
end
return rows
"""
)

#: KEYS: stream, indexes, subjects, indexed. ARGV: index prefix, after id, batch, the
#: payload field naming the subject (for entries appended before the ``s`` field existed).
#: Indexes the next batch of entries after ARGV[2]; returns the last id indexed, or ""
#: (and marks the stream indexed) when none is left.
BUILD_INDEX_LUA = (
    _HELPERS
    + """
local start = ARGV[2] == '0-0' and '-' or '(' .. ARGV[2]
local rows = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', tonumber(ARGV[3]))
if #rows == 0 then
  redis.call('SET', KEYS[4], '1')
  return ''
end
for _, row in ipairs(rows) do
  local f = row[2]
  local subject = field(f, 's')
  if subject == '' then
    local ok, doc = pcall(cjson.decode, field(f, 'd'))
    if ok and type(doc) == 'table' and type(doc[ARGV[4]]) == 'string' then
      subject = doc[ARGV[4]]
    end
  end
  index(ARGV[1], KEYS[2], KEYS[3], row[1], field(f, 't'), field(f, 'p'), subject, true)
end
return rows[#rows][1]
"""
)

#: KEYS: stream, keys, keytimes, floor, indexes, subjects, indexed. ARGV: ttl ms.
#: PEXPIREs every key of the timeline, the index sets named in ``indexes`` too, in one
#: round trip (:meth:`Timeline.expire`); returns how many keys it looked at.
EXPIRE_LUA = """
local sets = redis.call('SMEMBERS', KEYS[5])
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ARGV[1]) end
for _, key in ipairs(sets) do redis.call('PEXPIRE', key, ARGV[1]) end
return #KEYS + #sets
"""

#: The body of :data:`APPEND_LUA` as a function of its own KEYS and ARGV (Lua parameters
#: shadow the globals), for scripts that append to many streams at once.
_APPEND_FUNCTION = (
    "local function append_one(KEYS, ARGV)\n" + APPEND_LUA[len(_HELPERS) :] + "\nend\n"
)

#: KEYS: the streams. ARGV: the ten of :data:`APPEND_LUA` (one envelope for every stream;
#: the index prefix ARGV[9] is ignored), then a ttl in ms (0: none) given to every key of
#: each stream as :data:`EXPIRE_LUA` does. A stream's other keys are its name plus the
#: suffixes :class:`~broadcast.timeline.Timeline` gives them (same hash tag, same slot).
#: Appends one envelope to many streams in one round trip (a check-in's notice to every
#: friend's inbox); returns each stream's entry id.
FAN_OUT_LUA = (
    _HELPERS
    + _APPEND_FUNCTION
    + """
local ttl = tonumber(ARGV[11])
local argv = {}
for j = 1, 10 do argv[j] = ARGV[j] end
local out = {}
for _, s in ipairs(KEYS) do
  local k = {s, s .. ':keys', s .. ':keytimes', s .. ':floor', s .. ':indexes',
             s .. ':subjects', s .. ':indexed'}
  argv[9] = s .. ':i:'
  out[#out + 1] = append_one(k, argv)[1]
  if ttl > 0 then
    for _, key in ipairs(k) do redis.call('PEXPIRE', key, ttl) end
    for _, key in ipairs(redis.call('SMEMBERS', k[5])) do redis.call('PEXPIRE', key, ttl) end
  end
end
return out
"""
)
