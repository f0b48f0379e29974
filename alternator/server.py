"""The HTTP front end: the only module that imports aiohttp.

``POST /`` carries DynamoDB's JSON protocol: the operation is named by ``X-Amz-Target``, the body
is JSON (optionally gzip- or deflate-encoded). Every error, expected or not, leaves through
:func:`_error_response`, shaped like DynamoDB's.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from alternator.config import Config
from alternator.errors import (
    DynamoDBError,
    InternalServerError,
    RequestEntityTooLarge,
    SerializationException,
    UnknownOperationException,
)
from alternator.operations import HANDLERS, RequestContext
from alternator.storage import Storage

log = logging.getLogger("alternator")

TARGET_PREFIX = "DynamoDB_20120810."
CONTENT_TYPE = "application/x-amz-json-1.0"


@dataclass(slots=True)
class ServerState:
    config: Config
    storage: Storage


STATE = web.AppKey("state", ServerState)


def _error_response(error: DynamoDBError) -> web.Response:
    return web.Response(
        body=orjson.dumps(error.body()),
        status=error.status,
        content_type=CONTENT_TYPE,
        headers={"x-amzn-RequestId": uuid.uuid4().hex},
    )


def _parse_json(body: bytes) -> dict[str, Any]:
    try:
        req = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        raise SerializationException("Start of structure or map found where not expected") \
            from None
    if not isinstance(req, dict):
        raise SerializationException("Start of structure or map found where not expected")
    return req


async def handle_dynamodb(request: web.Request) -> web.Response:
    state = request.app[STATE]
    try:
        target = request.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else None
        handler = HANDLERS.get(operation) if operation else None
        limit = state.config.max_request_bytes
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge(f"Request size exceeds {limit} bytes")
        # aiohttp undoes gzip/deflate Content-Encoding itself and counts the limit on the
        # decoded bytes, so a compressed body cannot inflate past it.
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise RequestEntityTooLarge(f"Request size exceeds {limit} bytes") from None
        except (RequestPayloadError, HttpProcessingError):
            raise SerializationException("Malformed compressed request body") from None
        if handler is None:
            raise UnknownOperationException(f"Unknown operation {target!r}" if target else
                                            "Missing X-Amz-Target header")
        req = _parse_json(body)
        ctx = RequestContext(storage=state.storage, config=state.config)
        result = await handler(ctx, req)
    except DynamoDBError as error:
        return _error_response(error)
    except Exception:
        log.exception("internal error serving %s", request.headers.get("X-Amz-Target"))
        return _error_response(InternalServerError())
    return web.Response(body=orjson.dumps(result), content_type=CONTENT_TYPE)


async def handle_health(request: web.Request) -> web.Response:
    return web.Response(text=f"healthy: {request.host}")


async def handle_localnodes(request: web.Request) -> web.Response:
    state = request.app[STATE]
    dc = request.query.get("dc")
    rack = request.query.get("rack")
    nodes = await state.storage.local_nodes(dc, rack)
    if nodes is None:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        nodes = [sockname[0] if sockname else state.config.address]
    return web.Response(body=orjson.dumps(nodes), content_type="application/json")


def make_app(config: Config, storage: Storage) -> web.Application:
    # The body limit is enforced in handle_dynamodb (to answer in DynamoDB's format); aiohttp's
    # own limit sits just above it as a backstop.
    app = web.Application(client_max_size=config.max_request_bytes + 1)
    app[STATE] = ServerState(config=config, storage=storage)
    app.router.add_post("/", handle_dynamodb)
    app.router.add_get("/", handle_health)
    app.router.add_get("/localnodes", handle_localnodes)
    return app
