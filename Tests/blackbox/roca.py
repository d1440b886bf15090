"""A ROCA-structured RSA modulus (CVE-2017-15361) for tests, made the way Infineon RSALib
made them: each prime is k*M + (65537^a mod M), M the product of the first 126 primes
(the 2048-bit case of Nemec et al., CCS 2017). Pure Python: Miller-Rabin on the candidates.

    python3 Tests/blackbox/roca.py [seed]   # prints a public key PEM (cryptography)
"""
import random
import sys


def small_primes(count):
    out, n = [], 2
    while len(out) < count:
        if all(n % p for p in out if p * p <= n):
            out.append(n)
        n += 1
    return out


M = 1
for _p in small_primes(126):
    M *= _p


def is_probable_prime(n, rng, rounds=40):
    if n < 4:
        return n in (2, 3)
    for p in small_primes(50):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 1), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def roca_prime(bits, rng):
    """A prime of exactly `bits` bits of the form k*M + (65537^a mod M)."""
    while True:
        a = rng.randrange(1, 1 << 64)
        base = pow(65537, a, M)
        lo, hi = ((1 << (bits - 1)) - base + M - 1) // M, ((1 << bits) - 1 - base) // M
        k = rng.randrange(lo, hi + 1)
        p = k * M + base
        if p.bit_length() == bits and is_probable_prime(p, rng):
            return p


def roca_modulus(bits=2048, seed=15361):
    """(n, p, q): n = p*q of exactly `bits` bits, both primes ROCA-structured."""
    rng = random.Random(seed)
    while True:
        p, q = roca_prime(bits // 2, rng), roca_prime(bits // 2, rng)
        n = p * q
        if p != q and n.bit_length() == bits:
            return n, p, q


def has_fingerprint(n):
    """The detector of the ROCA paper: n mod p in <65537> mod p for the primes 3..167."""
    for p in small_primes(39)[1:]:
        g, x, seen = 65537 % p, 1, set()
        while x not in seen:
            seen.add(x)
            x = x * g % p
        if n % p not in seen:
            return False
    return True


def public_pem(n, e=65537):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers
    key = RSAPublicNumbers(e, n).public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


if __name__ == "__main__":
    n, _, _ = roca_modulus(seed=int(sys.argv[1]) if len(sys.argv) > 1 else 15361)
    assert has_fingerprint(n)
    sys.stdout.write(public_pem(n).decode())
