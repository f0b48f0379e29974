"""HTTPS with the generated serving CA: boto3 and the aws CLI trust it through AWS_CA_BUNDLE."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from alternator.config import Config

from conftest import ServerThread, sqlite_superuser


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    state = tmp_path_factory.mktemp("tls")
    db = str(state / "tls.db")
    secret = sqlite_superuser(db)
    thread = ServerThread(Config(port=None, https_port=0, sqlite_path=db,
                                 state_dir=str(state / "state")))
    url = thread.start()
    yield url, secret, state / "state"
    thread.stop()


def test_generated_ca_files(https_server: tuple[str, str, Path]) -> None:
    _, _, state = https_server
    assert (state / "serving-ca.crt").exists()
    assert (state / "serving.crt").exists()
    assert oct((state / "serving.key").stat().st_mode & 0o777) == "0o600"


def test_boto3_over_https(https_server: tuple[str, str, Path]) -> None:
    url, secret, state = https_server
    assert url.startswith("https://")
    client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="alternator", aws_secret_access_key=secret,
                          verify=str(state / "serving-ca.crt"))
    assert "TableNames" in client.list_tables()


def test_untrusted_without_ca_bundle(https_server: tuple[str, str, Path]) -> None:
    url, secret, _ = https_server
    client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="alternator", aws_secret_access_key=secret)
    with pytest.raises(Exception, match=r"(?i)certificate|ssl"):
        client.list_tables()


def test_aws_cli_with_ca_bundle(https_server: tuple[str, str, Path]) -> None:
    url, secret, state = https_server
    env = dict(os.environ, AWS_ACCESS_KEY_ID="alternator", AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION="us-east-1", AWS_CA_BUNDLE=str(state / "serving-ca.crt"),
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    result = subprocess.run([sys.executable, "-m", "awscli", "dynamodb", "list-tables",
                             "--endpoint-url", url, "--output", "json"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "TableNames" in json.loads(result.stdout)


def test_ca_is_reused_across_restarts(tmp_path: Path) -> None:
    from alternator.tls import ensure_serving_files

    first = ensure_serving_files(str(tmp_path), ["127.0.0.1"])
    assert first.ca_bundle is not None
    ca = first.ca_bundle.read_bytes()
    cert = first.certificate.read_bytes()
    second = ensure_serving_files(str(tmp_path), ["127.0.0.1"])
    assert second.ca_bundle is not None
    assert second.ca_bundle.read_bytes() == ca
    assert second.certificate.read_bytes() == cert
    # A new address gets a new certificate from the same CA.
    third = ensure_serving_files(str(tmp_path), ["127.0.0.2"])
    assert third.certificate.read_bytes() != cert
    assert third.ca_bundle is not None and third.ca_bundle.read_bytes() == ca
    context = ssl.create_default_context(cafile=str(third.ca_bundle))
    assert context.cert_store_stats()["x509_ca"] == 1


def _client_certificate(directory: Path) -> tuple[Path, Path, Path]:
    """A client CA and a client certificate signed by it (PEM files)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test client CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=1))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "client-ca.crt", directory / "client.crt", directory / "client.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


def test_mutual_tls(tmp_path: Path) -> None:
    from test_processes import free_port, wait_listening

    client_ca, client_cert, client_key = _client_certificate(tmp_path)
    db = str(tmp_path / "mtls.db")
    secret = sqlite_superuser(db)
    port = free_port()
    # A process of its own: a refused handshake must not leave sockets in the test process.
    with (tmp_path / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alternator", "serve", "--alternator-https-port", str(port),
             "--sqlite-path", db, "--state-dir", str(tmp_path / "state"),
             "--alternator-client-ca", str(client_ca)], stdout=log, stderr=log)
    url = f"https://127.0.0.1:{port}"
    try:
        wait_listening(proc, port, tmp_path / "server.log")
        server_ca = str(tmp_path / "state" / "serving-ca.crt")

        def client(cert: tuple[str, str] | None) -> object:
            from botocore.config import Config as BotoConfig

            return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                                aws_access_key_id="alternator", aws_secret_access_key=secret,
                                verify=server_ca,
                                config=BotoConfig(client_cert=cert,
                                                  retries={"max_attempts": 1}))

        with_cert = client((str(client_cert), str(client_key)))
        assert "TableNames" in with_cert.list_tables()  # type: ignore[attr-defined]
        without = client(None)
        with pytest.raises(Exception, match=r"(?i)ssl|certificate|connection|closed|reset"):
            without.list_tables()  # type: ignore[attr-defined]
    finally:
        proc.terminate()
        proc.wait(30)
