"""Build the FastAPI application: routes, error answers and the embedded worker's lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from callbridge import __version__
from callbridge.api import (
    admin,
    agent_auth,
    calls,
    deps,
    dialer,
    health,
    integrations,
    keys,
    lookups,
    matrix,
    metrics,
    threecx,
    user_links,
    webhooks,
)
from callbridge.api.body_limit import BodyLimit
from callbridge.connectors import registry
from callbridge.connectors.spec import RouteHost
from callbridge.errors import (
    InputError,
    PayloadError,
    SecretUnreadable,
    SignatureError,
    UnknownSource,
)
from callbridge.refusal_codes import Refusal, refusal
from callbridge.runtime import Runtime
from callbridge.web.refusals import (
    allowed_methods,
    coded,
    encodable,
    field_errors,
    unparsable_body,
)

log = logging.getLogger("callbridge.api")


Worker = Callable[[Runtime, asyncio.Event], Coroutine[Any, Any, None]]


def create_app(runtime: Runtime, *, worker: Worker | None = None) -> FastAPI:
    """Return the app serving ``runtime``; given a ``worker``, it also drains the queue.

    The process that builds the app hands it the worker (``callbridge serve`` passes
    :func:`callbridge.service.worker.run_worker`): the API never imports the process around it.
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Everything built so far lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise walk it again and again under load.
        gc.freeze()
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        if worker is not None:
            task = asyncio.create_task(worker(runtime, stop))
        app.state.worker = task
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task

    # Swagger UI and ReDoc load their scripts from the fastapi-offline package, not a CDN.
    app = FastAPIOffline(
        title="Callbridge",
        version=__version__,
        description="Puts every phone call on the right CRM record, exactly once.",
        lifespan=lifespan,
        # Callbridge exports Prometheus metrics, not OpenTelemetry: FastAPI's native telemetry
        # would otherwise look for a configured provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.runtime = runtime
    for module in (webhooks, calls, integrations, matrix, user_links):
        app.include_router(module.router)
    for router in registry.routers(RouteHost(deps.get_principal, deps.runtime_of)):
        app.include_router(router)
    for module in (admin, health, metrics):
        app.include_router(module.router)
    app.include_router(agent_auth.router)
    app.include_router(dialer.router)
    app.include_router(keys.router)
    app.include_router(lookups.router)
    app.include_router(threecx.router)
    app.add_middleware(BodyLimit, limit=runtime.settings.max_body_bytes)
    _install_error_answers(app)
    _document_webhook_schema(app)
    return app


def _document_webhook_schema(app: FastAPI) -> None:
    """Add the generic webhook's event schema, read from the raw body, to the OpenAPI spec."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = build()
            schemas = spec.setdefault("components", {}).setdefault("schemas", {})
            defs = dict(webhooks.GENERIC_SCHEMA.get("$defs", {}))
            schemas.update(defs)
            schemas["GenericEvent"] = {
                k: v for k, v in webhooks.GENERIC_SCHEMA.items() if k != "$defs"
            }
            operation = spec["paths"]["/webhooks/{provider}/{source_id}"]["post"]
            parameters = [*webhooks.PATH_PARAMETERS, *webhooks.SIGNATURE_HEADERS]
            operation.setdefault("parameters", []).extend(parameters)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def _install_error_answers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> Response:
        log.info(
            "refused %s %s: %s %s", request.method, request.url.path, err.status_code, err.detail
        )
        if unparsable_body(err):
            # One 422 shape for every body that cannot be read, UTF-8 or JSON.
            problem = {"loc": ["body"], "msg": "the body is not UTF-8 JSON", "type": "json_invalid"}
            return JSONResponse({"detail": [problem]}, 422)
        if isinstance(err.detail, Refusal):  # a route's own refusal: its code beside the message
            return JSONResponse(coded(err.detail), err.status_code, headers=err.headers)
        if isinstance(err.detail, str):
            err.detail = encodable(err.detail)
        if err.status_code == 405:
            err.headers = {**(err.headers or {}), "Allow": allowed_methods(request)}
        return await http_exception_handler(request, err)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        errors = field_errors(err.errors())
        log.info("refused %s %s: invalid request %s", request.method, request.url.path, errors)
        # FastAPI's own answer would echo NaN or a lone surrogate back and fail to encode it.
        return JSONResponse({"detail": errors}, 422)

    @app.exception_handler(IntegrityError)
    async def conflict(request: Request, err: IntegrityError) -> JSONResponse:
        # A safety net: routes answer their own conflicts with the field named; this keeps any
        # other one a 409 rather than a 500. The constraint is logged, not shown: it names
        # tables and columns, which say nothing to the caller.
        reason = str(err.orig).splitlines()[0] if err.orig else "a constraint"
        log.warning("conflict %s %s: %s", request.method, request.url.path, reason)
        return JSONResponse(coded(refusal("stored_data_conflict")), 409)

    @app.exception_handler(SecretUnreadable)
    async def secret_unreadable(_request: Request, err: SecretUnreadable) -> JSONResponse:
        # The server's keys, not the delivery, are wrong: refuse it (nothing is stored) so the
        # sender retries once the operator fixed them; logged once per source where raised.
        said = refusal("source_secret_unreadable", source_id=err.source_id)
        return JSONResponse(coded(said), 503)

    @app.exception_handler(InputError)
    async def input_error(request: Request, err: InputError) -> JSONResponse:
        # The access log is off by default: say here why a request was refused.
        log.warning("refused %s %s: %s", request.method, request.url.path, err)
        if isinstance(err, SignatureError):
            return JSONResponse({"error": "invalid_signature", "message": str(err)}, 401)
        if isinstance(err, UnknownSource):
            return JSONResponse({"error": "unknown_source", "message": str(err)}, 404)
        if isinstance(err, PayloadError):
            return JSONResponse(
                {"error": "invalid_payload", "field": err.field, "message": err.problem}, 422
            )
        return JSONResponse({"error": "bad_request", "message": str(err)}, 400)
