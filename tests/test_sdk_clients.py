"""The client-compatibility stage: the AWS SDKs of other languages, unmodified, against the server.

Each client is a small program of the kind its users write (tests/sdk/<language>/): the AWS SDK
for JavaScript v3 with the DocumentClient, the AWS SDK for Java v2 with the Enhanced Client, the
AWS SDK for Go v2 with its attributevalue marshaller, PynamoDB, aiobotocore and ScyllaDB's
load-balancing alternator-client. Every program covers the table life cycle with waiters, items
with conditions, Query and Scan page by page, and batches; each runs over HTTP and over HTTPS
(trusting the generated CA the way that SDK's users trust a private CA), against a server on
each backend. A program fails the test by exiting non-zero or by printing anything to stderr:
a warning from the SDK (the Go SDK's "response did not match expected checksum", say) fails it.

The dependencies come from npm, Maven Central, the Go module proxy and PyPI, pinned by the lock
files beside the programs, and are kept in ``.sdk-cache/`` (``ALTERNATOR_SDK_CACHE``) between
runs; everything is built once per session, concurrently. A missing toolchain skips that
client, except under ``CI=true`` (or ``ALTERNATOR_REQUIRE_SDKS=1``), where it fails.

docs/clients.md shows the programs' connection code: the text between their ``[docs:begin]`` and
``[docs:end]`` markers, which :func:`test_clients_doc_is_the_programs_snippets` holds it to.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from alternator.config import Config, WriteIsolation

from conftest import (
    ServerThread,
    cassandra_address,
    cassandra_config,
    cassandra_salted_hash,
    sqlite_superuser,
    unique_table_name,
)

ROOT = Path(__file__).resolve().parent.parent
SDK = ROOT / "tests" / "sdk"
CACHE = Path(os.environ.get("ALTERNATOR_SDK_CACHE", ROOT / ".sdk-cache")).resolve()
DOC = ROOT / "docs" / "clients.md"
BUILD_TIMEOUT = 900
RUN_TIMEOUT = 300
# What a tool prints on stderr that is no warning.
HARMLESS_STDERR = {"Certificate was added to keystore"}


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("ALTERNATOR_REQUIRE_SDKS") == "1"


@dataclass
class Built:
    """The outcome of preparing one client: its command line, or why there is none."""

    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    missing: str | None = None  # a toolchain not on this machine
    error: str | None = None  # a build that failed

    def require(self) -> None:
        if self.error is not None:
            pytest.fail(self.error)
        if self.missing is not None:
            if _required():
                pytest.fail(f"{self.missing} is needed by the client-compatibility stage")
            pytest.skip(f"{self.missing} is not installed")


def _digest(*paths: Path, extra: str = "") -> str:
    digest = hashlib.sha256(extra.encode())
    for path in sorted(paths):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str | None:
    """Run a build step; None when it worked, else what it printed."""
    result = subprocess.run(args, cwd=cwd, env={**os.environ, **(env or {})},
                            capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    if result.returncode == 0:
        return None
    return f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"


def _cached(name: str, digest: str, output: Path, build: Callable[[], str | None]) -> str | None:
    """Run ``build`` unless ``output`` exists and the stamp says it is of these inputs."""
    stamp = CACHE / f"{name}.stamp"
    if output.exists() and stamp.exists() and stamp.read_text() == digest:
        return None
    error = build()
    if error is None:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest)
    return error


def _tool_version(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout


def build_js() -> Built:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return Built(missing="node and npm")
    source, target = SDK / "js", CACHE / "js"
    lock = source / "package-lock.json"

    def install() -> str | None:
        target.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(source / name, target / name)
        return _run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], target,
                    {"npm_config_cache": str(CACHE / "npm")})

    error = _cached("js", _digest(source / "package.json", lock), target / "node_modules",
                    install)
    env = {"NODE_PATH": str(target / "node_modules")}
    major = int(_tool_version("node", "--version").lstrip("v").split(".")[0] or 0)
    if major < 22:
        # The SDK's notice that its releases from 2027 on need Node 22 is about this machine's
        # Node, not about the server; the SDK documents this switch for it.
        env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true"
    return Built(["node", str(source / "program.js")], env, error=error)


def build_go() -> Built:
    if shutil.which("go") is None:
        return Built(missing="go")
    source, binary = SDK / "go", CACHE / "go" / "sdk-go"
    env = {"GOMODCACHE": str(CACHE / "go" / "mod"), "GOCACHE": str(CACHE / "go" / "build"),
           "GOFLAGS": "-modcacherw -mod=readonly"}

    def build() -> str | None:
        return _run(["go", "build", "-o", str(binary), "."], source, env)

    inputs = [source / "go.mod", source / "go.sum", *source.glob("*.go")]
    error = _cached("go", _digest(*inputs, extra=_tool_version("go", "version")), binary,
                    build)
    return Built([str(binary)], error=error)


def build_java() -> Built:
    if shutil.which("java") is None or shutil.which("mvn") is None:
        return Built(missing="java and mvn")
    source, target = SDK / "java", CACHE / "java" / "target"
    classpath_file = target / "classpath.txt"

    def build() -> str | None:
        return _run(["mvn", "-B", "-q", f"-Dmaven.repo.local={CACHE / 'm2'}",
                     f"-Dsdk.build.directory={target}", "package", "dependency:build-classpath",
                     f"-Dmdep.outputFile={classpath_file}"], source)

    inputs = [source / "pom.xml", *(source / "src").rglob("*.*")]
    java = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=60).stderr
    error = _cached("java", _digest(*inputs, extra=java), classpath_file, build)
    if error is not None:
        return Built(error=error)
    classpath = f"{target / 'classes'}{os.pathsep}{classpath_file.read_text().strip()}"
    return Built(["java", "alternator.sdk.Main"], {"CLASSPATH": classpath})


def build_python() -> Built:
    venv = CACHE / "python"
    requirements = SDK / "python" / "requirements.txt"
    python = venv / "bin" / "python"

    def install() -> str | None:
        shutil.rmtree(venv, ignore_errors=True)
        return (_run([sys.executable, "-m", "venv", str(venv)], ROOT)
                or _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                         "-r", str(requirements)], ROOT))

    error = _cached("python", _digest(requirements, extra=sys.version), python, install)
    return Built([str(python), "-W", "default"], error=error)


BUILDERS = {"js": build_js, "go": build_go, "java": build_java, "python": build_python}


@pytest.fixture(scope="session")
def built() -> dict[str, Built]:
    """Every client prepared once, the four toolchains side by side."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(len(BUILDERS)) as pool:
        futures = {name: pool.submit(builder) for name, builder in BUILDERS.items()}
        return {name: future.result() for name, future in futures.items()}


@dataclass
class SdkServer:
    backend: str
    http_url: str
    https_url: str
    ca: Path
    access_key: str
    secret_key: str


@pytest.fixture(scope="module", params=["sqlite", "cassandra"])
def sdk_server(request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[SdkServer]:
    """A server with both an HTTP and an HTTPS port (and its generated CA) on one backend."""
    state = tmp_path_factory.mktemp(f"sdk-{request.param}")
    if request.param == "cassandra":
        if cassandra_address() is None:
            if os.environ.get("ALTERNATOR_REQUIRE_CASSANDRA") == "1":
                pytest.fail("ALTERNATOR_REQUIRE_CASSANDRA=1 but ALTERNATOR_TEST_CASSANDRA unset")
            pytest.skip("no Cassandra node (run `make test`, or set ALTERNATOR_TEST_CASSANDRA)")
        config = Config(port=0, https_port=0, backend="cassandra", cassandra=cassandra_config(),
                        write_isolation=WriteIsolation.ONLY_RMW_USES_LWT,
                        state_dir=str(state / "state"))
        access_key, secret = "cassandra", cassandra_salted_hash()
    else:
        db = str(state / "sdk.db")
        config = Config(port=0, https_port=0, sqlite_path=db, state_dir=str(state / "state"))
        access_key, secret = "alternator", sqlite_superuser(db)
    thread = ServerThread(config)
    thread.start()
    server = thread.server
    assert server is not None and server.tls is not None and server.tls.ca_bundle is not None
    yield SdkServer(request.param, f"http://127.0.0.1:{server.port}",
                    f"https://127.0.0.1:{server.https_port}", server.tls.ca_bundle,
                    access_key, secret)
    thread.stop()


@dataclass(frozen=True)
class Client:
    """One program: which build runs it, and how it is told to trust the CA over HTTPS."""

    build: str
    script: str | None  # the program file, for the interpreted ones
    https_env: Callable[[Path], dict[str, str]]


CLIENTS = {
    # Node reads extra CAs from NODE_EXTRA_CA_CERTS; the JavaScript SDK ignores AWS_CA_BUNDLE.
    "javascript": Client("js", None, lambda ca: {"NODE_EXTRA_CA_CERTS": str(ca)}),
    # The Go program loads the CA into its http.Client (config.WithCustomCABundle).
    "go": Client("go", None, lambda ca: {"ALTERNATOR_CA": str(ca)}),
    # The JVM trusts a truststore made by keytool (tests/sdk/java/https.sh).
    "java": Client("java", None, lambda ca: {"ALTERNATOR_CA": str(ca)}),
    # botocore, under PynamoDB and aiobotocore, reads AWS_CA_BUNDLE.
    "pynamodb": Client("python", "pynamodb_models.py", lambda ca: {"AWS_CA_BUNDLE": str(ca)}),
    "aiobotocore": Client("python", "aiobotocore_client.py",
                          lambda ca: {"AWS_CA_BUNDLE": str(ca)}),
    # alternator-client trusts its CA for /localnodes only; its boto3 client needs AWS_CA_BUNDLE.
    "alternator-client": Client("python", "alternator_client.py",
                                lambda ca: {"ALTERNATOR_CA": str(ca), "AWS_CA_BUNDLE": str(ca)}),
}


def _program_env(server: SdkServer, url: str, table: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(ALTERNATOR_ENDPOINT=url, ALTERNATOR_TABLE=table,
               AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key,
               AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull,
               AWS_EC2_METADATA_DISABLED="true")
    return env


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("name", list(CLIENTS))
def test_client(name: str, scheme: str, sdk_server: SdkServer, built: dict[str, Built],
                tmp_path: Path) -> None:
    client = CLIENTS[name]
    build = built[client.build]
    build.require()
    url = sdk_server.http_url if scheme == "http" else sdk_server.https_url
    env = {**_program_env(sdk_server, url, unique_table_name("sdk")), **build.env}
    command = list(build.command)
    if client.script is not None:
        command.append(str(SDK / "python" / client.script))
    if scheme == "https":
        env.update(client.https_env(sdk_server.ca))
        if client.build == "java":
            command = ["sh", str(SDK / "java" / "https.sh")]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=RUN_TIMEOUT)
    stderr = [line for line in result.stderr.splitlines()
              if line.strip() and line.strip() not in HARMLESS_STDERR]
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    assert not stderr, f"{name} printed on stderr:\n{result.stderr}"
    assert result.stdout.strip().splitlines()[-1:] == ["ok"], result.stdout


@pytest.mark.parametrize("sdk_server", ["sqlite"], indirect=True)
def test_https_clients_fail_without_the_ca(sdk_server: SdkServer, built: dict[str, Built],
                                           tmp_path: Path) -> None:
    """The HTTPS runs prove something: without the CA configured, the Go SDK refuses."""
    build = built["go"]
    build.require()
    env = {**_program_env(sdk_server, sdk_server.https_url, unique_table_name("sdk")),
           **build.env}
    result = subprocess.run(build.command, cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=RUN_TIMEOUT)
    assert result.returncode != 0
    assert "certificate" in result.stderr


# The docs show the programs' connection code, exactly as the stage runs it.

MARKED = re.compile(r"^[^\n]*\[docs:begin\][^\n]*\n(.*?)^[^\n]*\[docs:end\][^\n]*$",
                    re.MULTILINE | re.DOTALL)
FENCE = re.compile(r"^```[a-z]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PROGRAMS = ["js/program.js", "java/src/main/java/alternator/sdk/Main.java", "java/https.sh",
            "go/main.go", "python/pynamodb_models.py", "python/aiobotocore_client.py",
            "python/alternator_client.py"]


def snippet(path: Path) -> str:
    """The marked parts of a program, dedented, joined by blank lines."""
    blocks = [textwrap.dedent(block).strip("\n") for block in MARKED.findall(path.read_text())]
    assert blocks, f"{path} has no [docs:begin] ... [docs:end] block"
    return "\n\n".join(blocks) + "\n"


def test_clients_doc_is_the_programs_snippets() -> None:
    fences = FENCE.findall(DOC.read_text())
    snippets = [snippet(SDK / program) for program in PROGRAMS]
    missing = [program for program, text in zip(PROGRAMS, snippets, strict=True)
               if text not in fences]
    assert not missing, f"docs/clients.md lacks the current snippets of {missing}"
    extra = [fence for fence in fences if fence not in snippets]
    assert not extra, f"docs/clients.md has code the stage does not run:\n{extra}"
