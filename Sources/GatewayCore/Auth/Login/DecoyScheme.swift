import JOSE

/// The hash scheme an unknown username is hashed with, so that "no such user" costs what
/// the slowest configured user costs: no username can be told apart as unknown by being
/// answered faster than a known one.
///
/// Within a family the cost is ordered by its parameters (scrypt `2^ln·r·p`, PBKDF2
/// iterations). Across families (a users file that mixes scrypt and PBKDF2) the two most
/// expensive candidates are each timed once, at load, and the slower one wins.
enum DecoyScheme {
    static func slowest(of schemes: some Sequence<PasswordHash.Scheme>) -> PasswordHash.Scheme {
        var scrypt: (scheme: PasswordHash.Scheme, cost: Int)?
        var pbkdf2: (scheme: PasswordHash.Scheme, cost: Int)?
        for scheme in schemes {
            switch scheme {
            case .scrypt(let ln, let r, let p):
                let cost = (1 << ln) * r * p
                if cost > scrypt?.cost ?? 0 { scrypt = (scheme, cost) }
            case .pbkdf2SHA256(let iterations):
                if iterations > pbkdf2?.cost ?? 0 { pbkdf2 = (scheme, iterations) }
            }
        }
        switch (scrypt, pbkdf2) {
        case (let s?, let p?): return time(s.scheme) >= time(p.scheme) ? s.scheme : p.scheme
        case (let s?, nil): return s.scheme
        case (nil, let p?): return p.scheme
        case (nil, nil): return PasswordHash.defaultScheme
        }
    }

    private static func time(_ scheme: PasswordHash.Scheme) -> Duration {
        ContinuousClock().measure { PasswordHash.burnTime(password: Array("decoy".utf8), scheme: scheme) }
    }
}
