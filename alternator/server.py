"""The HTTP front end: the only module that imports aiohttp.

``POST /`` carries DynamoDB's JSON protocol: the operation is named by ``X-Amz-Target``, the body
is JSON (optionally gzip- or deflate-encoded). Every error, expected or not, leaves through
:func:`_error_response`, shaped like DynamoDB's. Every response, of any route, gets DynamoDB's
headers (and CORS's) in :func:`_stamp_response`; large ones are compressed for clients that
accept it (:func:`_answer`, alternator/http/compression.py).

A request is checked as far as its headers allow before any of its body is read (the request
limits, the signing role must exist), and the body is then read within the limits of
:mod:`alternator.intake`. Connections and their timeouts are :mod:`alternator.listener`'s.
Each request has one id (its ``x-amzn-RequestId``) and one :class:`RequestOutcome`, handed to
:func:`request_ended` however the request ends. What may change at run time is read from
``state.settings`` (alternator/settings.py) on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from aiohttp import web

from alternator.auth import sigv4
from alternator.auth.authenticate import identify, verify
from alternator.auth.credentials import Principal, RoleCache
from alternator.config import Config
from alternator.errors import (
    DynamoDBError,
    InternalServerError,
    RequestEntityTooLarge,
    RequestTimeoutError,
    SerializationException,
    ThrottlingException,
    UnknownOperationException,
)
from alternator.faults import RateLimitedLog, json_safe, printable
from alternator.http import compression
from alternator.http.cors import cors_headers
from alternator.http.outcome import RequestOutcome, new_request_id, write_access_log
from alternator.intake import MSG_THROTTLED, Budget, ClientGone, Hold, read_body
from alternator.metrics import usage
from alternator.metrics.exposition import render
from alternator.metrics.registry import Metrics
from alternator.operations import (
    EMPTY_RESPONSES,
    HANDLERS,
    STREAMS_HANDLERS,
    RequestContext,
    streams,
    ttl,
)
from alternator.operations.backfill import Backfills
from alternator.operations.config_table import LiveOptions
from alternator.operations.context import ClientInfo, Counters, Handler
from alternator.registry import Registry
from alternator.settings import Settings
from alternator.storage import Storage

log = logging.getLogger("alternator")
# Faults a client can repeat at will (bad signatures while only warning, slow bodies, ...).
client_faults = RateLimitedLog(logging.getLogger("alternator.clients"))

TARGET_PREFIX = "DynamoDB_20120810."
STREAMS_TARGET_PREFIX = "DynamoDBStreams_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"
REQUEST_ID = "x-amzn-RequestId"
METRICS_SYNC_SECONDS = 1.0


@dataclass(slots=True)
class ServerState:
    config: Config
    storage: Storage
    roles: RoleCache
    budget: Budget
    counters: Counters = field(default_factory=Counters)
    metrics: Metrics = field(default_factory=Metrics)
    expiry: ttl.ExpiryCounts = field(default_factory=ttl.ExpiryCounts)
    backfills: Backfills = field(init=False)
    settings: Settings = field(init=False)  # what may change at run time, read per request
    live: LiveOptions = field(init=False)  # its changes through system.config
    registry: Registry = field(init=False)  # this server's entry; /localnodes
    # DynamoDB requests being handled, and operations that timed out but still run (their
    # slots are given back when they end): what --max-concurrent-requests-per-shard bounds.
    in_flight: int = 0
    # The requests being served right now, with their signer (for system.clients).
    active: dict[int, tuple[web.Request, str | None]] = field(default_factory=dict)

    def clients(self) -> list[ClientInfo]:
        out = []
        for request, username in list(self.active.values()):
            peer = request.transport.get_extra_info("peername") if request.transport else None
            out.append(ClientInfo(
                address=str(peer[0]) if peer else "",
                port=int(peer[1]) if peer else 0,
                ssl_enabled=request.secure,
                shard_id=self.config.worker_id,
                driver_name=json_safe(request.headers.get("User-Agent", "")),
                username=username,
            ))
        return out


STATE = web.AppKey("state", ServerState)
OUTCOME = web.RequestKey("outcome", RequestOutcome)


def request_ended(state: ServerState, outcome: RequestOutcome, counted: usage.Usage) -> None:
    """Called once for every DynamoDB request, when it has ended, however it ended: the
    metrics (from the outcome and what the operation counted) and the access log."""
    state.metrics.request_done(outcome.operation, outcome.status, outcome.error,
                               outcome.latency, counted)
    if state.settings.access_log:
        write_access_log(outcome)


def _outcome_of(request: web.Request) -> RequestOutcome:
    """The request's outcome record (and so its id), made when its headers are first seen."""
    outcome = request.get(OUTCOME)
    if outcome is None:
        outcome = request[OUTCOME] = RequestOutcome(new_request_id(), _client_address(request))
        outcome.operation = _handler_of(request.headers.get("X-Amz-Target", ""))[1]
    return outcome


def _handler_of(target: str) -> tuple[Handler | None, str | None]:
    """The handler of an ``X-Amz-Target`` and the operation's name; (None, None) if unknown."""
    if target.startswith(TARGET_PREFIX):
        operation = target[len(TARGET_PREFIX):]
        handler = HANDLERS.get(operation)
    elif target.startswith(STREAMS_TARGET_PREFIX):
        operation = target[len(STREAMS_TARGET_PREFIX):]
        handler = STREAMS_HANDLERS.get(operation)
    else:
        return None, None
    return (handler, operation) if handler is not None else (None, None)


def _ended(state: ServerState, outcome: RequestOutcome, response: web.StreamResponse,
           counted: usage.Usage | None = None) -> None:
    outcome.status = response.status
    if isinstance(response, web.Response) and isinstance(response.body, bytes | bytearray):
        outcome.response_bytes = len(response.body)
    outcome.latency = time.monotonic() - outcome.started
    request_ended(state, outcome, counted or usage.Usage())


def _error_response(error: DynamoDBError, close: bool = False,
                    outcome: RequestOutcome | None = None) -> web.Response:
    """DynamoDB's error body. Messages may quote client text: bytes that are not UTF-8 are
    shown escaped (tests/test_headers.py)."""
    body = error.body()
    key = error.message_key
    if isinstance(body.get(key), str):
        body[key] = json_safe(body[key])
    response = web.Response(body=orjson.dumps(body), status=error.status,
                            content_type=CONTENT_TYPE)
    if outcome is not None:
        outcome.error = error.code
    if close:
        response.force_close()
    return response


async def _stamp_response(request: web.Request, response: web.StreamResponse) -> None:
    """DynamoDB's headers on every response, success or error, just before they are sent.

    ``x-amz-crc32`` is the CRC32 of the body bytes as sent, compressed if they are (as DynamoDB
    computes it): the AWS SDK for Go v2 and botocore check it against every response that has
    one, and fail the call on a mismatch (tests/test_response_headers.py,
    tests/test_sdk_clients.py, tests/test_compression.py). A streamed response (a large
    compressed one) has no such header, which those SDKs accept. DynamoDB names itself
    ``Server: Server``; aiohttp's default would announce its and Python's versions.
    """
    headers = response.headers
    if REQUEST_ID not in headers:
        outcome = request.get(OUTCOME)
        headers[REQUEST_ID] = outcome.request_id if outcome is not None else new_request_id()
    body = response.body if isinstance(response, web.Response) else None
    if isinstance(body, bytes | bytearray):
        headers["x-amz-crc32"] = str(zlib.crc32(body))
    headers["Server"] = "Server"
    if "Origin" in request.headers:
        headers.update(cors_headers(request.headers, request.method == "OPTIONS"))


def _decode_body(raw: bytearray, encoding: str, limit: int) -> bytes | bytearray:
    """Undo Content-Encoding, refusing bodies that inflate past the request limit.

    The server runs with aiohttp's own decompression off: the signature covers the bytes as
    sent, so they are verified first and inflated here afterwards.
    """
    if encoding in ("", "identity"):
        return raw
    if encoding not in ("gzip", "deflate"):
        raise SerializationException(f"Unsupported Content-Encoding: {encoding}")
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    try:
        try:
            inflater = zlib.decompressobj(wbits)
            body = inflater.decompress(raw, limit + 1)
        except zlib.error:
            if encoding != "deflate":
                raise
            inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, no zlib header
            body = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise SerializationException(f"Malformed {encoding} request body") from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise RequestEntityTooLarge(f"Request size exceeds {limit} bytes")
    if not inflater.eof:
        raise SerializationException(f"Truncated {encoding} request body")
    return body


def _parse_json(body: bytes | bytearray) -> dict[str, Any]:
    try:
        req = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        raise SerializationException.unparsable("Request body is not valid JSON") from None
    if not isinstance(req, dict):
        raise SerializationException("Start of structure or map found where not expected")
    return req


async def handle_dynamodb(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    outcome = _outcome_of(request)
    counted, token = usage.begin()
    try:
        response = await _serve(request, state, outcome)
    except BaseException:  # no answer at all (the server stopping, a failure writing one)
        outcome.status = outcome.status or 500
        outcome.latency = time.monotonic() - outcome.started
        request_ended(state, outcome, counted)
        raise
    finally:
        usage.end(token)
    _ended(state, outcome, response, counted)
    return response


async def _serve(request: web.Request, state: ServerState,
                 outcome: RequestOutcome) -> web.StreamResponse:
    settings = state.settings
    limit = settings.max_concurrent_requests
    if limit and state.in_flight >= limit:
        return _error_response(ThrottlingException(MSG_THROTTLED),
                               close=not request.content.is_eof(), outcome=outcome)
    state.in_flight += 1
    hold = Hold(state.budget, outcome.client)
    target = request.headers.get("X-Amz-Target", "")
    try:
        handler, operation = _handler_of(target)
        limit = state.config.max_request_bytes
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge(f"Request size exceeds {limit} bytes")
        signer = await _identify(state, request)
        try:
            raw = await read_body(request.content, hold, request.content_length, limit,
                                  state.config.limits.body_timeout)
        except DynamoDBError as error:
            client_faults.log(logging.INFO, "%s from %s: %s", error.code, request.remote,
                              error.message)
            return _error_response(error, close=True, outcome=outcome)
        outcome.request_bytes = len(raw)
        principal = _verify(state, request, signer, raw)
        outcome.user = principal.name if principal else None
        body = _decode_body(raw, request.headers.get("Content-Encoding", "").lower(), limit)
        del raw
        if handler is None:
            raise UnknownOperationException(f"Unknown operation {target!r}" if target else
                                            "Missing X-Amz-Target header")
        req = _parse_json(body)
        del body
        outcome.name_table(req)
        ctx = RequestContext(state.storage, state.config, principal, state.roles, state.clients,
                             state.counters, state.backfills.wake,
                             json_safe(request.host), state.live)
        key = id(request)
        state.active[key] = (request, outcome.user)
        try:
            result = await _within(state, handler(ctx, req), settings.request_timeout, outcome)
        finally:
            del state.active[key]
    except ClientGone:
        log.debug("client %s went away before its request was read", request.remote)
        return _error_response(SerializationException("Incomplete request"), close=True,
                               outcome=outcome)
    except DynamoDBError as error:
        return _error_response(error, close=not request.content.is_eof(), outcome=outcome)
    except Exception:
        log.exception("internal error serving %s (request id %s)",
                      printable(target), outcome.request_id)
        return _error_response(InternalServerError(), outcome=outcome)
    finally:
        hold.release()
        state.in_flight -= 1
    body = b"" if operation in EMPTY_RESPONSES else orjson.dumps(result)
    return await _answer(request, settings, body, outcome)


async def _within(state: ServerState, work: Awaitable[dict[str, Any]],
                  timeout: float, outcome: RequestOutcome) -> dict[str, Any]:
    """The result of ``work``, or InternalServerError (500, which every SDK retries) once it
    has taken ``timeout`` seconds (0: no limit). The operation is not cancelled: it runs on to
    its end in the background, still counted in ``state.in_flight``, so that no write is cut
    off half-way (tests/test_request_limits.py)."""
    if timeout <= 0:
        return await work
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        if task.done():  # ended at the deadline, or raised a TimeoutError of its own
            return task.result()
    state.in_flight += 1
    task.add_done_callback(lambda done: _ended_late(state, done, outcome))
    client_faults.log(logging.WARNING, "%s (request id %s) still running after %g s; answered "
                      "InternalServerError", outcome.operation, outcome.request_id, timeout)
    raise RequestTimeoutError(f"Request timed out after {round(timeout * 1000)} ms")


def _ended_late(state: ServerState, task: asyncio.Future[dict[str, Any]],
                outcome: RequestOutcome) -> None:
    state.in_flight -= 1
    error = None if task.cancelled() else task.exception()
    if error is not None and not isinstance(error, DynamoDBError):
        log.warning("%s (request id %s), answered as timed out, then failed",
                    outcome.operation, outcome.request_id, exc_info=error)


async def _answer(request: web.Request, settings: Settings, body: bytes,
                  outcome: RequestOutcome) -> web.StreamResponse:
    """The success response: ``body``, compressed if it is large enough and the client accepts
    it; streamed as it is compressed when large (then without ``x-amz-crc32``). A body below
    the threshold pays one comparison."""
    level = settings.response_compression_level
    coding = None
    if level and body and len(body) >= settings.response_compression_threshold:
        coding = compression.negotiate(",".join(request.headers.getall("Accept-Encoding", ())))
    if coding is None:
        return web.Response(body=body, content_type=CONTENT_TYPE)
    if len(body) <= compression.STREAM_ABOVE:
        return web.Response(body=compression.compress(body, coding, level),
                            content_type=CONTENT_TYPE, headers={"Content-Encoding": coding})
    response = web.StreamResponse(headers={"Content-Encoding": coding})
    response.content_type = CONTENT_TYPE
    response.enable_chunked_encoding()
    await response.prepare(request)
    try:
        for piece in compression.compressed_slices(body, coding, level):
            await response.write(piece)
            outcome.response_bytes += len(piece)
            await asyncio.sleep(0)  # other requests run between slices
        await response.write_eof()
    except ConnectionError:
        log.debug("client %s went away during a streamed response", request.remote)
    return response


def _client_address(request: web.Request) -> str:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return str(peer[0]) if peer else ""


Signer = tuple[sigv4.SignedRequest, Principal]


async def _identify(state: ServerState, request: web.Request) -> Signer | None:
    """Who signed the request, from its headers alone; None when not checked (authorization
    off, or only warned about and failing)."""
    if not (state.config.enforce_authorization or state.settings.warn_authorization):
        return None
    try:
        return await identify(state.roles, request.headers, datetime.now(UTC))
    except DynamoDBError as error:
        _auth_failed(state, error)
        return None


def _verify(state: ServerState, request: web.Request, signer: Signer | None,
            body: bytearray) -> Principal | None:
    if signer is None:
        return None
    try:
        return verify(signer[0], signer[1], request.method, request.rel_url.raw_path,
                      request.rel_url.raw_query_string, request.headers, body,
                      datetime.now(UTC))
    except DynamoDBError as error:
        _auth_failed(state, error)
        return None


def _auth_failed(state: ServerState, error: DynamoDBError) -> None:
    if state.config.enforce_authorization:
        raise error
    state.counters.authentication_warnings += 1
    client_faults.log(logging.WARNING, "authentication would fail: %s: %s", error.code,
                      printable(error.message))


async def _expect(request: web.Request) -> web.Response | None:
    """``Expect: 100-continue`` is answered as HTTP says; any other expectation is refused in
    DynamoDB's shape (aiohttp's own refusal quoted the header raw, failing on non-UTF-8).
    A refusal here ends the request: its outcome is recorded as for any other."""
    state = request.app[STATE]
    outcome = _outcome_of(request)
    response = None
    if request.headers.get("Expect", "").strip().lower() == "100-continue":
        # A client that cannot be identified, or announces too large a body, is refused
        # before it sends its body at all.
        limit = state.config.max_request_bytes
        try:
            if request.content_length is not None and request.content_length > limit:
                raise RequestEntityTooLarge(f"Request size exceeds {limit} bytes")
            await _identify(state, request)
        except DynamoDBError as error:
            response = _error_response(error, close=True, outcome=outcome)
        else:
            await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            return None
    else:
        response = _error_response(SerializationException("Unsupported Expect header"),
                                   close=True, outcome=outcome)
    _ended(state, outcome, response)
    return response


async def handle_other(request: web.Request) -> web.Response:
    """Any path and method no other route takes: a CORS preflight (``OPTIONS``, on any path,
    needing no signature; _stamp_response adds its headers, alternator/http/cors.py), or 404."""
    if request.method == "OPTIONS":
        return web.Response()
    raise web.HTTPNotFound()


async def handle_health(request: web.Request) -> web.Response:
    return web.Response(text=f"healthy: {printable(request.host, limit=None)}")


async def handle_localnodes(request: web.Request) -> web.Response:
    """The live servers of a datacenter (and rack), from the registry of servers
    (alternator/registry.py, docs/cluster.md; tests/test_localnodes.py)."""
    state = request.app[STATE]
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    try:
        nodes = await state.registry.local_nodes(
            request.query.get("dc"), request.query.get("rack"),
            str(sockname[0]) if sockname else None)
    except DynamoDBError as error:
        return _error_response(error)
    return web.Response(body=orjson.dumps(nodes), content_type="application/json")


def service_totals(state: ServerState) -> dict[tuple[str, str], float]:
    """The counters background services and caches keep, for :meth:`Metrics.sync`."""
    hits, misses = state.roles.lookups
    totals: dict[tuple[str, str], float] = {
        ("auth_warnings", "authentication"): state.counters.authentication_warnings,
        ("auth_warnings", "authorization"): state.counters.authorization_warnings,
        ("backfilled", ""): state.backfills.items_done,
        ("cache", "hit"): hits,
        ("cache", "miss"): misses,
    }
    for table, scanned in state.expiry.scanned.items():
        totals[("expiry_scanned", table)] = scanned
    for table, expired in state.expiry.expired.items():
        totals[("expiry_deleted", table)] = expired
    return totals


async def handle_metrics(request: web.Request) -> web.Response:
    """``GET /metrics`` of one server process (under --workers the supervisor serves it)."""
    state = request.app[STATE]
    state.metrics.flush()
    state.metrics.sync(service_totals(state))
    body, content_type = render(state.metrics.registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = content_type
    return response


def make_metrics_app(app: web.Application) -> web.Application:
    """The metrics listener's app, showing the metrics of the DynamoDB API app ``app``."""
    metrics = web.Application()
    metrics[STATE] = app[STATE]
    metrics.router.add_get("/metrics", handle_metrics)
    return metrics


async def _sync_metrics(state: ServerState) -> None:
    """Under --workers, where the supervisor reads the metrics: the requests' counts and the
    services' counters are brought into them every second; and what other workers changed in system.config is
    applied here."""
    while True:
        await asyncio.sleep(METRICS_SYNC_SECONDS)
        state.metrics.flush()
        state.metrics.sync(service_totals(state))
        state.live.refresh()


def make_app(config: Config, storage: Storage) -> web.Application:
    # The body limit is enforced in handle_dynamodb (to answer in DynamoDB's format); aiohttp's
    # own limit sits just above it as a backstop.
    app = web.Application(client_max_size=config.max_request_bytes + 1)
    roles = RoleCache(storage, config.credentials_validity)
    limits = config.limits
    budget = Budget(limits.max_buffered_bytes, limits.max_buffered_bytes_per_client)
    app[STATE] = state = ServerState(config=config, storage=storage, roles=roles, budget=budget)
    state.backfills = Backfills(storage, config)
    state.settings = Settings.from_config(config)
    state.live = LiveOptions(state.settings, config.shared_dir)
    state.registry = Registry(storage, config)
    if config.test_hooks:
        from alternator import hooks

        hooks.install(storage)
    app.on_response_prepare.append(_stamp_response)
    app.router.add_post("/", handle_dynamodb, expect_handler=_expect)
    app.router.add_get("/", handle_health)
    app.router.add_get("/localnodes", handle_localnodes)
    app.router.add_route("*", "/{path:.*}", handle_other)  # last: what no route above takes
    if config.worker_id == 0:  # one expiry service per server, not per worker
        app.cleanup_ctx.append(_expiry_service)
        app.cleanup_ctx.append(_stream_trim_service)
    app.cleanup_ctx.append(_backfill_service)  # every worker: an UpdateTable starts its own
    if config.workers > 1:
        app.cleanup_ctx.append(_metrics_sync_service)
    return app


def _service(run: Callable[[ServerState], Coroutine[Any, Any, None]],
             ) -> Callable[[web.Application], AsyncIterator[None]]:
    """A background task for the app's lifetime, cancelled at shutdown."""

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.get_running_loop().create_task(run(app[STATE]))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return lifetime


# Index backfills (operations/backfill.py), the Time to Live expiry service (operations/ttl.py)
# and the trimming of old stream records (operations/streams.py).
_backfill_service = _service(lambda state: state.backfills.run())
_expiry_service = _service(lambda state: ttl.expiry_loop(state.storage, state.config,
                                                         state.expiry))
_stream_trim_service = _service(lambda state: streams.trim_loop(state.storage, state.config))
_metrics_sync_service = _service(_sync_metrics)
