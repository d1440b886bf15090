/// The Lua that makes every store operation one atomic round trip. It reproduces the pure
/// `TokenState` machine of the `TokenStore` target decision for decision; see the comments
/// there for the reasons behind each rule.
///
/// Call: `EVALSHA sha 0 op prefix instance now args…`. Keys are built from the prefix
/// inside the script (the store targets one Redis, not a cluster):
///
/// - `<p>clock`: the store clock, a high-water mark of every `now` seen; decisions use
///   `max(now, clock)` so store time never goes backwards, even across replicas.
/// - `<p>f:<sid>`: hash of one family: `sub claims lk cur jti exp gen prev pjti pat blob rat rexp old`
///   (`old`: the hashes of up to 7 tokens used before `prev`, 32 raw bytes each, newest first).
/// - `<p>l:<hex lookup key>`: the sid holding a lookup key.
/// - `<p>s:<subject>`: set of the subject's sids (stale members are removed when met).
/// - `<p>rev`: sorted set of revocations in force, `f:<sid>` / `t:<jti>` scored by expiry.
/// - channel `<p>revocations`: one `RevocationMessage` per new or extended revocation.
///
/// Family keys expire (PEXPIRE) when their refresh token does, so Redis forgets dead
/// families by itself; the revocation set and subject sets live as long as their longest
/// entry. Times are Unix ms, exact in Lua's doubles up to 2^53 (`RedisTokenStore` clamps).
enum RedisScripts {
    static let store = RedisScript(
        #"""
        local op, P, inst = ARGV[1], ARGV[2], ARGV[3]
        local now = tonumber(ARGV[4])
        local REV = P .. 'rev'
        local function S(x) return string.format('%.0f', x) end

        local function storeClock()
          local c = redis.call('GET', P .. 'clock')
          if c then return tonumber(c) end
          return nil
        end

        -- Advances the store clock; returns the time to decide with.
        local function advance()
          local c = storeClock()
          if c == nil or now > c then
            redis.call('SET', P .. 'clock', S(now))
            return now
          end
          return c
        end

        -- Makes `key` live at least `ms` more milliseconds.
        local function extend(key, ms)
          local cur = redis.call('PTTL', key)
          if cur == -1 or cur < ms then redis.call('PEXPIRE', key, S(ms)) end
        end

        local function load(sid)
          local v = redis.call('HMGET', P .. 'f:' .. sid,
            'sub', 'claims', 'lk', 'cur', 'jti', 'exp', 'prev', 'pjti', 'pat', 'blob', 'rat', 'rexp', 'old')
          if not v[1] then return nil end
          return { sid = sid, sub = v[1], claims = v[2] or '', lk = v[3] or '', cur = v[4] or '',
            jti = v[5] or '', exp = tonumber(v[6] or '0'), prev = v[7] or '', pjti = v[8] or '',
            pat = tonumber(v[9] or '0'), blob = v[10] or '', revoked = (v[11] or '') ~= '',
            rexp = tonumber(v[12] or '0'), old = v[13] or '' }
        end

        -- Family.maxOlderHashes hashes of 32 bytes, newest first, in one string.
        local OLDER = 7 * 32

        -- True if `h` is a token of the family already rotated away from (its previous
        -- token, or an older one still remembered): reuse, as opposed to a made-up secret.
        local function wasUsed(f, h)
          local found = f.prev ~= '' and h == f.prev
          for i = 1, #f.old, 32 do
            if string.sub(f.old, i, i + 31) == h then found = true end
          end
          return found
        end

        local function byLookup(lk)
          local sid = redis.call('GET', P .. 'l:' .. lk)
          if not sid then return nil end
          local f = load(sid)
          if f and f.lk == lk then return f end
          return nil
        end

        local function live(f, t) return t < f.exp end

        -- Forgets a family and its index entries (an expired one being replaced).
        local function forget(f)
          redis.call('DEL', P .. 'f:' .. f.sid)
          if redis.call('GET', P .. 'l:' .. f.lk) == f.sid then redis.call('DEL', P .. 'l:' .. f.lk) end
          redis.call('SREM', P .. 's:' .. f.sub, f.sid)
        end

        -- Keys of a family live until its refresh token expires.
        local function keep(sid, sub, lk, exp, t)
          local ms = math.max(1, exp - t)
          redis.call('PEXPIRE', P .. 'f:' .. sid, S(ms))
          redis.call('PEXPIRE', P .. 'l:' .. lk, S(ms))
          extend(P .. 's:' .. sub, ms)
        end

        -- Records a revocation (a later expiry wins) and announces the one in force.
        local function record(kind, id, untilv, t)
          local member = kind .. ':' .. id
          local old = redis.call('ZSCORE', REV, member)
          local inForce = untilv
          if old and tonumber(old) >= untilv then
            inForce = tonumber(old)
          else
            redis.call('ZADD', REV, S(untilv), member)
          end
          extend(REV, math.max(1, inForce - t))
          redis.call('PUBLISH', P .. 'revocations', 'v1|' .. inst .. '|' .. kind .. '|' .. S(inForce) .. '|' .. id)
        end

        local function revoke(f, t, ttl)
          local untilv = t + ttl
          local fk = P .. 'f:' .. f.sid
          if not f.revoked then redis.call('HSET', fk, 'rat', S(t)) end
          redis.call('HSET', fk, 'rexp', S(math.max(f.rexp, untilv)), 'blob', '')
          record('f', f.sid, untilv, t)
          return untilv
        end

        -- Revokes a live family, or reports the revocation in force (idempotent logout).
        local function revokeOrReport(f, t, ttl)
          if f.revoked then
            if f.rexp > t then return { 'revoked', f.sid, f.rexp } end
            return { 'none' }
          end
          return { 'revoked', f.sid, revoke(f, t, ttl) }
        end

        local function sweep(t) redis.call('ZREMRANGEBYSCORE', REV, '-inf', S(t)) end

        if op == 'create' then
          local sid, sub, claims, lk, hash, jti = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
          local exp = tonumber(ARGV[11])
          local t = advance()
          sweep(t)
          local old = load(sid)
          if old and live(old, t) then return { 'conflict' } end
          local other = byLookup(lk)
          if other and live(other, t) then return { 'conflict' } end
          if old then forget(old) end
          if other and other.sid ~= sid then forget(other) end
          redis.call('HSET', P .. 'f:' .. sid, 'sub', sub, 'claims', claims, 'lk', lk, 'cur', hash,
            'jti', jti, 'exp', S(exp), 'gen', '0')
          redis.call('SET', P .. 'l:' .. lk, sid)
          redis.call('SADD', P .. 's:' .. sub, sid)
          keep(sid, sub, lk, exp, t)
          return { 'ok' }

        elseif op == 'rotate' then
          local lk, presented = ARGV[5], ARGV[6]
          local hasBound, bsub, bjti = ARGV[7] == '1', ARGV[8], ARGV[9]
          local requireBinding = ARGV[10] == '1'
          local newHash, newJti, blob = ARGV[11], ARGV[12], ARGV[13]
          local refreshTTL, grace, revTTL = tonumber(ARGV[14]), tonumber(ARGV[15]), tonumber(ARGV[16])
          local t = advance()
          sweep(t)
          local f = byLookup(lk)
          if not f then return { 'rejected', 'unknown' } end
          if f.revoked then return { 'rejected', 'revoked' } end
          if not live(f, t) then return { 'rejected', 'expired' } end
          if hasBound and bsub ~= f.sub then return { 'rejected', 'foreignSubject' } end
          if requireBinding and not hasBound then return { 'rejected', 'bindingMissing' } end

          if presented == f.cur then
            if hasBound and bjti ~= f.jti then return { 'mismatch', f.sid, revoke(f, t, revTTL) } end
            local exp = t + refreshTTL
            if grace <= 0 then blob = '' end
            local old = f.old
            if f.prev ~= '' then old = string.sub(f.prev .. old, 1, OLDER) end
            redis.call('HSET', P .. 'f:' .. f.sid, 'prev', f.cur, 'pjti', f.jti, 'pat', S(t), 'blob', blob,
              'cur', newHash, 'jti', newJti, 'exp', S(exp), 'old', old)
            redis.call('HINCRBY', P .. 'f:' .. f.sid, 'gen', 1)
            keep(f.sid, f.sub, f.lk, exp, t)
            return { 'rotated', f.sid, f.sub, f.claims, exp }
          end
          if f.prev ~= '' and presented == f.prev and grace > 0 and t - f.pat < grace then
            if hasBound and bjti ~= f.pjti then return { 'mismatch', f.sid, revoke(f, t, revTTL) } end
            return { 'grace', f.sid, f.sub, f.claims, f.exp, f.blob, f.jti }
          end
          if wasUsed(f, presented) then return { 'reuse', f.sid, revoke(f, t, revTTL) } end
          return { 'rejected', 'unknown' }

        elseif op == 'revokeSid' then
          local sid, ttl = ARGV[5], tonumber(ARGV[6])
          local t = advance()
          sweep(t)
          local f = load(sid)
          if not f or not live(f, t) then return { 'none' } end
          return revokeOrReport(f, t, ttl)

        elseif op == 'revokeToken' then
          local lk, presented, ttl = ARGV[5], ARGV[6], tonumber(ARGV[7])
          local t = advance()
          sweep(t)
          local f = byLookup(lk)
          if not f or not live(f, t) then return { 'none' } end
          if presented ~= f.cur and (f.prev == '' or presented ~= f.prev) then return { 'none' } end
          return revokeOrReport(f, t, ttl)

        elseif op == 'revokeSubject' then
          local sub, ttl = ARGV[5], tonumber(ARGV[6])
          local t = advance()
          sweep(t)
          local key = P .. 's:' .. sub
          local out = { 'list' }
          for _, sid in ipairs(redis.call('SMEMBERS', key)) do
            local f = load(sid)
            if not f or f.sub ~= sub then
              redis.call('SREM', key, sid)
            elseif live(f, t) and not f.revoked then
              out[#out + 1] = sid
              out[#out + 1] = revoke(f, t, ttl)
            end
          end
          return out

        elseif op == 'revokeJti' then
          local jti, expiresAt = ARGV[5], tonumber(ARGV[6])
          local t = advance()
          sweep(t)
          local old = redis.call('ZSCORE', REV, 't:' .. jti)
          if old then old = tonumber(old) end
          local untilv = expiresAt
          if old and old > untilv then untilv = old end
          if untilv <= t or untilv == old then return { 'until', untilv } end
          record('t', jti, untilv, t)
          return { 'until', untilv }

        elseif op == 'active' then
          local t = now
          local c = storeClock()
          if c and c > t then t = c end
          local out = { 'list' }
          local all = redis.call('ZRANGEBYSCORE', REV, '(' .. S(t), '+inf', 'WITHSCORES')
          for i = 1, #all, 2 do
            out[#out + 1] = all[i]
            out[#out + 1] = tonumber(all[i + 1])
          end
          return out
        end
        return redis.error_reply('unknown store operation')
        """#
    )

    /// Login guesses: one counter per key in a fixed window that starts at the key's first
    /// guess (INCR, then PEXPIRE when the counter is new) and ends when Redis expires it.
    /// `ARGV = mode, then name, limit, window per key`. Modes:
    /// - `peek`: the longest remaining window (PTTL) of the keys at or over their limit, or 0.
    /// - `reserve`: the same check, and when it answers 0, one INCR of every key in the same
    ///   script, so no other call can slip between the check and the count (all or nothing).
    /// - `release`: one DECR of every key that still counts (the TTL is kept); returns 0.
    static let throttle = RedisScript(
        #"""
        local mode = ARGV[1]
        if mode == 'release' then
          for i = 2, #ARGV, 3 do
            local key = ARGV[i]
            if tonumber(redis.call('GET', key) or '0') > 0 then redis.call('DECR', key) end
          end
          return 0
        end
        local wait = 0
        for i = 2, #ARGV, 3 do
          local key, limit, window = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
          if tonumber(redis.call('GET', key) or '0') >= limit then
            local left = redis.call('PTTL', key)
            if left < 0 then
              redis.call('PEXPIRE', key, window)
              left = tonumber(window)
            end
            if left > wait then wait = left end
          end
        end
        if mode == 'reserve' and wait == 0 then
          for i = 2, #ARGV, 3 do
            local key, window = ARGV[i], ARGV[i + 2]
            local n = redis.call('INCR', key)
            if n == 1 or redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, window) end
          end
        end
        return wait
        """#
    )
}
