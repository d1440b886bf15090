"""A throw-away PKI for TLS black-box tests, made with the openssl command: a CA, server
certificates (localhost/127.0.0.1, other.test), a client certificate, and a rogue
self-signed one. P-256 keys throughout."""
import os
import subprocess
import tempfile


def _openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


class PKI:
    def __init__(self, directory=None):
        self.dir = directory or tempfile.mkdtemp(prefix="gw-pki-")
        os.makedirs(self.dir, exist_ok=True)
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", self.path("ca.key"), "-out", self.path("ca.pem"), "-subj", "/CN=Test CA",
                 "-days", "2")
        self.leaf("server", "/CN=localhost", "DNS:localhost,IP:127.0.0.1")
        self.leaf("other", "/CN=other.test", "DNS:other.test,DNS:*.other.test")
        self.leaf("client", "/O=Example/CN=client-1", "DNS:client-1", client=True)
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", self.path("rogue.key"), "-out", self.path("rogue.pem"), "-subj", "/CN=localhost",
                 "-days", "2", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")

    def path(self, name):
        return os.path.join(self.dir, name)

    def leaf(self, name, subject, san, client=False, directory=None):
        """Issues `name`.pem/.key (in `directory`, default the PKI's) signed by the CA."""
        d = directory or self.dir
        key, csr, ext, pem = (os.path.join(d, name + s) for s in (".key", ".csr", ".ext", ".pem"))
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                 "-out", csr, "-subj", subject)
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\nextendedKeyUsage=%s\n" % (san, "clientAuth" if client else "serverAuth"))
        _openssl("x509", "-req", "-in", csr, "-CA", self.path("ca.pem"), "-CAkey", self.path("ca.key"),
                 "-CAcreateserial", "-out", pem, "-days", "2", "-extfile", ext)
        os.chmod(key, 0o600)
        return pem, key

    def fingerprint(self, name):
        out = subprocess.run(["openssl", "x509", "-in", self.path(name + ".pem"), "-noout", "-fingerprint",
                              "-sha256"], check=True, capture_output=True, text=True, timeout=30).stdout
        return out.strip().split("=", 1)[1].replace(":", "").lower()

    def serial(self, pem_path):
        out = subprocess.run(["openssl", "x509", "-in", pem_path, "-noout", "-serial"], check=True,
                             capture_output=True, text=True, timeout=30).stdout
        return out.strip().split("=", 1)[1].lower()

    def listener(self, **extra):
        """The gateway's `tls` block serving the localhost certificate."""
        t = {"cert_file": self.path("server.pem"), "key_file": self.path("server.key")}
        t.update(extra)
        return t


_shared = None


def shared_pki():
    """One PKI per test session (making certificates costs about a second)."""
    global _shared
    if _shared is None:
        _shared = PKI()
    return _shared
