// HS256 bearer-token check for the nginx+njs peer of scripts/bench (njs 0.7).
// Same checks as a gateway protected route: header alg, signature, exp/nbf, iss, aud.
// SECRET, ISSUER and AUDIENCE are filled in by scripts/bench.
const crypto = require('crypto');
const SECRET = '@SECRET@';
const ISSUER = '@ISSUER@';
const AUDIENCE = '@AUDIENCE@';

function decode(part) {
    return JSON.parse(Buffer.from(part, 'base64url').toString());
}

function verify(r) {
    const h = r.headersIn['Authorization'];
    if (!h || h.length < 8 || h.substring(0, 7) !== 'Bearer ') return '0';
    const parts = h.substring(7).split('.');
    if (parts.length !== 3) return '0';
    const mac = crypto.createHmac('sha256', SECRET).update(parts[0] + '.' + parts[1]).digest('base64url');
    if (mac !== parts[2]) return '0';
    try {
        const head = decode(parts[0]);
        if (head.alg !== 'HS256') return '0';
        const claims = decode(parts[1]);
        const now = Date.now() / 1000;
        if (typeof claims.exp !== 'number' || claims.exp <= now) return '0';
        if (typeof claims.nbf === 'number' && claims.nbf > now) return '0';
        if (claims.iss !== ISSUER) return '0';
        const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
        if (aud.indexOf(AUDIENCE) < 0) return '0';
    } catch (e) {
        return '0';
    }
    return '1';
}

export default { verify };
