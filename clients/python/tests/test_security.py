"""TLS, mutual TLS, bearer tokens and the access policy, against the real
broker with a throw-away PKI made by openssl (docs/security.md)."""

import hashlib
import shutil
import subprocess

import pytest

import atomix

TOKEN = "py-client-token-1"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None,
                                reason="needs openssl to make certificates")


def _openssl(cwd, *args):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _ca(d, name):
    _openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", f"{name}.key", "-out", f"{name}.crt")


def _cert(d, name, cn, ext):
    (d / f"{name}.ext").write_text(ext)
    _openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-subj", f"/CN={cn}", "-keyout", f"{name}.key", "-out", f"{name}.csr")
    _openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
             "-out", f"{name}.crt")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """ca, other-ca, server (127.0.0.1) and client (CN alice) files, and a
    tokens file giving TOKEN to the principal "bot"."""
    d = tmp_path_factory.mktemp("pki")
    _ca(d, "ca")
    _ca(d, "other-ca")
    _cert(d, "server", "atomix-broker",
          "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    _cert(d, "client", "alice", "extendedKeyUsage=clientAuth\n")
    digest = hashlib.sha256(TOKEN.encode()).hexdigest()
    (d / "tokens").write_text(f"bot {digest}\n")
    (d / "policy.toml").write_text(
        '[roles.jobs]\nread = ["jobs/"]\nwrite = ["jobs/"]\nlock = ["jobs/"]\n'
        '[principals]\n"bot" = ["jobs"]\n"alice" = ["jobs"]\n')
    return d


def _server_flags(pki, *extra):
    return ("--store", "memory", "--tls-cert", str(pki / "server.crt"),
            "--tls-key", str(pki / "server.key"), *extra)


@pytest.fixture
def token_broker(start_broker, pki):
    return start_broker(*_server_flags(pki, "--auth", "token",
                                       "--auth-tokens", str(pki / "tokens"),
                                       "--acl-policy", str(pki / "policy.toml")))


def test_tls_and_a_token_reach_the_broker_and_watch(token_broker, pki, make_client):
    c = make_client(token_broker.endpoint, tls=atomix.Tls(ca=str(pki / "ca.crt")), token=TOKEN)
    jobs = c.counter("jobs/done")
    with jobs.watch() as w:
        assert jobs.increment(2) == 2
        e = w.next(timeout=10)
    assert e.value == 2
    with c.lock("jobs/leader") as fence:
        assert fence > 0


def test_pem_bytes_work_like_files(token_broker, pki, make_client):
    tls = atomix.Tls(ca=(pki / "ca.crt").read_bytes())
    assert make_client(token_broker.endpoint, tls=tls, token=TOKEN).counter("jobs/b").get() == 0


def test_missing_or_unknown_token_is_unauthenticated(token_broker, pki, make_client):
    tls = atomix.Tls(ca=str(pki / "ca.crt"))
    with pytest.raises(atomix.UnauthenticatedError):
        make_client(token_broker.endpoint, tls=tls).counter("jobs/x").get()
    with pytest.raises(atomix.UnauthenticatedError, match="unknown bearer token"):
        make_client(token_broker.endpoint, tls=tls, token="wrong").counter("jobs/x").get()


def test_the_policy_refuses_names_outside_the_principals_roles(token_broker, pki, make_client):
    c = make_client(token_broker.endpoint, tls=atomix.Tls(ca=str(pki / "ca.crt")), token=TOKEN)
    with pytest.raises(atomix.PermissionDeniedError, match='"bot"'):
        c.counter("payroll").increment()
    assert c.counter("jobs/y").increment() == 1


def test_an_untrusted_broker_or_plaintext_never_connects(token_broker, pki, make_client):
    wrong_ca = make_client(token_broker.endpoint, timeout=2,
                           tls=atomix.Tls(ca=str(pki / "other-ca.crt")), token=TOKEN)
    with pytest.raises(atomix.UnavailableError):
        wrong_ca.counter("jobs/z").get()
    plaintext = make_client(token_broker.endpoint, timeout=2)
    with pytest.raises(atomix.UnavailableError):
        plaintext.counter("jobs/z").get()


def test_mutual_tls_names_the_principal_by_its_certificate(start_broker, pki, make_client):
    b = start_broker(*_server_flags(pki, "--tls-client-ca", str(pki / "ca.crt"),
                                    "--auth", "cert",
                                    "--acl-policy", str(pki / "policy.toml")))
    tls = atomix.Tls(ca=str(pki / "ca.crt"), cert=str(pki / "client.crt"),
                     key=str(pki / "client.key"))
    c = make_client(b.endpoint, tls=tls)
    assert c.counter("jobs/m").increment() == 1
    with pytest.raises(atomix.PermissionDeniedError, match='"alice"'):
        c.counter("elsewhere").increment()
    no_cert = make_client(b.endpoint, timeout=2, tls=atomix.Tls(ca=str(pki / "ca.crt")))
    with pytest.raises(atomix.UnavailableError):
        no_cert.counter("jobs/m").get()


def test_bad_options_fail_before_connecting(pki, tmp_path):
    with pytest.raises(atomix.InvalidArgumentError, match="bearer token needs TLS"):
        atomix.Client("127.0.0.1:1", token=TOKEN)
    with pytest.raises(atomix.InvalidArgumentError, match="needs its key"):
        atomix.Client("127.0.0.1:1", tls=atomix.Tls(cert=str(pki / "client.crt")))
    with pytest.raises(atomix.InvalidArgumentError, match="cannot read the root CA file"):
        atomix.Client("127.0.0.1:1", tls=atomix.Tls(ca=str(tmp_path / "missing.crt")))
    (tmp_path / "junk.crt").write_text("not a certificate\n")
    with pytest.raises(atomix.InvalidArgumentError, match="holds no PEM block"):
        atomix.Client("127.0.0.1:1", tls=atomix.Tls(ca=str(tmp_path / "junk.crt")))
