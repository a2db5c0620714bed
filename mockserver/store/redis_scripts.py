"""The Lua scripts of the Redis store: each is one round trip and runs atomically in Redis, so
an operation that must have one winner across processes (write-if-unchanged, take, an
idempotency claim, a window hit, a poll gate, a lock release) is one script, never a
read-modify-write from Python. Scripts build no key names except from prefixes passed in
(the store is for a single Redis, not Redis Cluster).

Document layout (`redis_store`): a hash per document — ``b`` the JSON body, ``s`` the global
sequence given at creation, ``v`` a version bumped on every write, ``o`` the owner (absent for
none) — plus a sorted set per kind and per (kind, owner) scored by sequence.

Marks (`redis_marks`): a key ``{mark prefix}{name}`` (expiring) says some process keeps what it
built from the document or index ``name`` without reading it again. Every script that writes a
document or changes an index membership checks the marks of what it touched and, when one is
set, publishes their names (``m``, each name after a byte 1, then a byte 0 and the writer's
nonce) on the broadcast channel in the same atomic step; it returns how many processes were told, and the
writer waits for that many acknowledgements before it goes on (`redis_broadcast`). A mark
prefix of ``''`` skips the check (the caller tells everyone itself).
"""

# Prepended to every writing script: tell(prefix, channel, nonce, names) -> processes told
_TELL = """
local function tell(prefix, channel, nonce, names)
  if prefix == '' then return 0 end
  local hit = {}
  for _, name in ipairs(names) do
    if redis.call('EXISTS', prefix .. name) == 1 then hit[#hit + 1] = name end
  end
  if #hit == 0 then return 0 end
  return redis.call('PUBLISH', channel, 'm\\1' .. table.concat(hit, '\\1') .. '\\0' .. nonce)
end
"""

# KEYS: doc, kind index, owner index (ignored without owner), sequence counter, kinds set
# ARGV: mode ("put" | "cas"), expected seq, expected version ("" = absent), member,
#       has owner ("1"/"0"), owner, body, kind, mark prefix, channel, nonce
# -> {seq, owner or false, processes told} ; false when a "cas" found the document changed
WRITE = _TELL + """
local cur = redis.call('HMGET', KEYS[1], 's', 'v', 'o')
if ARGV[1] == 'cas' and ((cur[1] or '') ~= ARGV[2] or (cur[2] or '') ~= ARGV[3]) then
  return false
end
if cur[1] then
  redis.call('HSET', KEYS[1], 'b', ARGV[7], 'v', tonumber(cur[2]) + 1)
  return {cur[1], cur[3], tell(ARGV[9], ARGV[10], ARGV[11], {KEYS[1]})}
end
local seq = redis.call('INCR', KEYS[4])
local touched = {KEYS[1], KEYS[2]}
if ARGV[5] == '1' then
  redis.call('HSET', KEYS[1], 'b', ARGV[7], 's', seq, 'v', 1, 'o', ARGV[6])
  redis.call('ZADD', KEYS[3], seq, ARGV[4])
  touched[3] = KEYS[3]
else
  redis.call('HSET', KEYS[1], 'b', ARGV[7], 's', seq, 'v', 1)
end
redis.call('ZADD', KEYS[2], seq, ARGV[4])
redis.call('SADD', KEYS[5], ARGV[8])
return {tostring(seq), ARGV[5] == '1' and ARGV[6] or false, tell(ARGV[9], ARGV[10], ARGV[11], touched)}
"""

# KEYS: doc, kind index
# ARGV: member, owner-index prefix (owner appended), expected seq, expected version ("" = any),
#       mark prefix, channel, nonce
# -> {body, seq, owner or false, processes told} of the removed document, or false (absent / changed)
REMOVE = _TELL + """
local cur = redis.call('HMGET', KEYS[1], 'b', 's', 'o', 'v')
if not cur[2] then return false end
if ARGV[3] ~= '' and (cur[2] ~= ARGV[3] or cur[4] ~= ARGV[4]) then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local touched = {KEYS[1], KEYS[2]}
if cur[3] then
  redis.call('ZREM', ARGV[2] .. cur[3], ARGV[1])
  touched[3] = ARGV[2] .. cur[3]
end
return {cur[1], cur[2], cur[3], tell(ARGV[5], ARGV[6], ARGV[7], touched)}
"""

# An idempotency claim kept as an ordinary document (kind ``_idempotency``, owner the scope's
# tenant), live while younger than the TTL in virtual time; the key also expires in real time
# (generously) so claims do not live forever, and the two oldest index entries whose
# documents expired are swept on each claim so the indexes do not grow either.
# KEYS: doc, kind index, owner index, sequence counter, kinds set
# ARGV: member, owner, now, ttl, value, body, real expiry ms, kind, doc-key prefix, owner-index prefix
# -> {1, value} when claimed now, {0, value of the live claim} otherwise
CLAIM = """
local cur = redis.call('HMGET', KEYS[1], 'b', 'v')
if cur[1] then
  local d = cjson.decode(cur[1])
  if tonumber(ARGV[3]) - tonumber(d['at']) < tonumber(ARGV[4]) then
    return {0, d['value']}
  end
  redis.call('HSET', KEYS[1], 'b', ARGV[6], 'v', tonumber(cur[2]) + 1)
else
  local seq = redis.call('INCR', KEYS[4])
  redis.call('HSET', KEYS[1], 'b', ARGV[6], 's', seq, 'v', 1, 'o', ARGV[2])
  redis.call('ZADD', KEYS[2], seq, ARGV[1])
  redis.call('ZADD', KEYS[3], seq, ARGV[1])
  redis.call('SADD', KEYS[5], ARGV[8])
end
redis.call('PEXPIRE', KEYS[1], ARGV[7])
for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, 1)) do
  if redis.call('EXISTS', ARGV[9] .. m) == 0 then
    redis.call('ZREM', KEYS[2], m)
    redis.call('ZREM', ARGV[10] .. string.match(m, '^[^|]*'), m)
  end
end
return {1, ARGV[5]}
"""

# KEYS: doc, kind index ; ARGV: value, member, owner-index prefix -> 1 when the claim of
# ``value`` was removed
RELEASE_CLAIM = """
local b = redis.call('HGET', KEYS[1], 'b')
if not b then return 0 end
if cjson.decode(b)['value'] ~= ARGV[1] then return 0 end
local o = redis.call('HGET', KEYS[1], 'o')
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
if o then redis.call('ZREM', ARGV[3] .. o, ARGV[2]) end
return 1
"""

# Sliding window: KEYS: window zset ; ARGV: cutoff (now - window), limit, now, unique member,
# real expiry ms -> false when the hit was recorded, else the oldest hit's time (a string).
HIT_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return first[2] or ARGV[3]
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return false
"""

# KEYS: gate ; ARGV: now, min interval, real expiry ms -> false when allowed (now recorded),
# else the last allowed poll's time (a string)
POLL_GATE = """
local last = redis.call('GET', KEYS[1])
if last and tonumber(ARGV[1]) - tonumber(last) < tonumber(ARGV[2]) then
  return last
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return false
"""

# Lock lease: release / extend only when the lease is still ours (compare token).
UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

# One chunk of a scan, index entries and their documents in one round trip.
# KEYS: index ; ARGV: doc-key prefix, "desc" | "asc", low (exclusive), high (exclusive;
# "+inf" for none), count -> flat {member, score, body, seq, owner, ...}; a document gone or
# re-created since (its seq differs from the index score) is returned with body false.
SCAN_CHUNK = """
local entries
if ARGV[2] == 'desc' then
  local top = ARGV[4] == '+inf' and '+inf' or '(' .. ARGV[4]
  entries = redis.call('ZREVRANGEBYSCORE', KEYS[1], top, '(' .. ARGV[3], 'WITHSCORES', 'LIMIT', 0, ARGV[5])
else
  local top = ARGV[4] == '+inf' and '+inf' or '(' .. ARGV[4]
  entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[3], top, 'WITHSCORES', 'LIMIT', 0, ARGV[5])
end
local out = {}
for i = 1, #entries, 2 do
  local doc = redis.call('HMGET', ARGV[1] .. entries[i], 'b', 's', 'o')
  out[#out + 1] = entries[i]
  out[#out + 1] = entries[i + 1]
  if doc[2] and tonumber(doc[2]) == tonumber(entries[i + 1]) then
    out[#out + 1] = doc[1]
    out[#out + 1] = doc[2]
    out[#out + 1] = doc[3]
  else
    out[#out + 1] = false
    out[#out + 1] = false
    out[#out + 1] = false
  end
end
return out
"""

# Several documents written as one: the first may be a compare-and-set (as WRITE's "cas"),
# the others are puts; nothing is written unless every expectation holds, so a reader (any
# process, any script) sees all of them or none (e.g. an account and the transaction that
# explains its new balance). KEYS: sequence counter, kinds set, then per document: doc,
# kind index, owner index ; ARGV per document (8 each): as WRITE's first 8, then mark prefix,
# channel, nonce -> flat {seq, owner or false} per document, then processes told ; false when
# an expectation failed
WRITE_MANY = _TELL + """
local n = (#KEYS - 2) / 3
local touched = {}
for i = 0, n - 1 do
  local a = i * 8
  if ARGV[a + 1] == 'cas' then
    local cur = redis.call('HMGET', KEYS[3 + i * 3], 's', 'v')
    if (cur[1] or '') ~= ARGV[a + 2] or (cur[2] or '') ~= ARGV[a + 3] then return false end
  end
end
local out = {}
for i = 0, n - 1 do
  local k, a = 3 + i * 3, i * 8
  local cur = redis.call('HMGET', KEYS[k], 's', 'v', 'o')
  if cur[1] then
    redis.call('HSET', KEYS[k], 'b', ARGV[a + 7], 'v', tonumber(cur[2]) + 1)
    out[#out + 1] = cur[1]
    out[#out + 1] = cur[3] or false
    touched[#touched + 1] = KEYS[k]
  else
    local seq = redis.call('INCR', KEYS[1])
    if ARGV[a + 5] == '1' then
      redis.call('HSET', KEYS[k], 'b', ARGV[a + 7], 's', seq, 'v', 1, 'o', ARGV[a + 6])
      redis.call('ZADD', KEYS[k + 2], seq, ARGV[a + 4])
      touched[#touched + 1] = KEYS[k + 2]
    else
      redis.call('HSET', KEYS[k], 'b', ARGV[a + 7], 's', seq, 'v', 1)
    end
    redis.call('ZADD', KEYS[k + 1], seq, ARGV[a + 4])
    redis.call('SADD', KEYS[2], ARGV[a + 8])
    out[#out + 1] = tostring(seq)
    out[#out + 1] = ARGV[a + 5] == '1' and ARGV[a + 6] or false
    touched[#touched + 1] = KEYS[k]
    touched[#touched + 1] = KEYS[k + 1]
  end
end
local m = n * 8
out[#out + 1] = tell(ARGV[m + 1], ARGV[m + 2], ARGV[m + 3], touched)
return out
"""

# Several documents and index ranges read as one consistent view (one round trip, atomic: no
# write of another process lands between its parts). ARGV: number of documents, their keys,
# then per range (4 each): index, doc-key prefix, "asc" | "desc", count (0 = all)
# -> flat: per document {body, seq, owner} (false when absent); per range {n, then n x
# {body, seq, owner}} (entries whose document is gone or re-created are left out)
READ_VIEW = """
local out = {}
local ndocs = tonumber(ARGV[1])
for i = 2, ndocs + 1 do
  local doc = redis.call('HMGET', ARGV[i], 'b', 's', 'o')
  out[#out + 1] = doc[1] or false
  out[#out + 1] = doc[2] or false
  out[#out + 1] = doc[3] or false
end
for a = ndocs + 2, #ARGV, 4 do
  local stop = tonumber(ARGV[a + 3]) - 1
  local entries
  if ARGV[a + 2] == 'desc' then
    entries = redis.call('ZREVRANGE', ARGV[a], 0, stop, 'WITHSCORES')
  else
    entries = redis.call('ZRANGE', ARGV[a], 0, stop, 'WITHSCORES')
  end
  local at = #out + 1
  out[at] = 0
  for i = 1, #entries, 2 do
    local doc = redis.call('HMGET', ARGV[a + 1] .. entries[i], 'b', 's', 'o')
    if doc[2] and tonumber(doc[2]) == tonumber(entries[i + 1]) then
      out[#out + 1] = doc[1]
      out[#out + 1] = doc[2]
      out[#out + 1] = doc[3] or false
      out[at] = out[at] + 1
    end
  end
end
return out
"""

# What a reader compares to know that documents and index memberships are as it last saw
# them (one small round trip). ARGV: mark prefix ("" = set no marks), mark lifetime ms,
# number of documents, their keys, then index keys -> flat: per document {seq, version}
# (false when absent); per index {count, highest score}. With a prefix every document and
# index read is marked first, in the same atomic step: a write after the stamp is told.
STAMP = """
local out = {}
if ARGV[1] ~= '' then
  for i = 4, #ARGV do
    redis.call('SET', ARGV[1] .. ARGV[i], 1, 'PX', ARGV[2])
  end
end
local ndocs = tonumber(ARGV[3])
for i = 4, ndocs + 3 do
  local doc = redis.call('HMGET', ARGV[i], 's', 'v')
  out[#out + 1] = doc[1] or false
  out[#out + 1] = doc[2] or false
end
for i = ndocs + 4, #ARGV do
  out[#out + 1] = redis.call('ZCARD', ARGV[i])
  local top = redis.call('ZREVRANGE', ARGV[i], 0, 0, 'WITHSCORES')
  out[#out + 1] = top[2] or false
end
return out
"""
