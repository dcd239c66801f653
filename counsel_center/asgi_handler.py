"""Django's ASGI handler with each request's synchronous work done in one hop to a pooled thread.

Two costs of Django's own ASGI handler, measured on the webhook (docs/perf.md):

- It builds the middleware chain in async mode, and every `MiddlewareMixin`
  middleware (all of Django's own, WhiteNoise's) then calls its
  `process_request`/`process_response` through `sync_to_async`: about 36
  thread hops per request with our ten middleware, 3.6 ms of CPU for a request
  that does nothing. Our views are synchronous, so here the whole request —
  middleware and view — runs synchronously, as under WSGI.
- It starts a new thread for every request (asgiref's `ThreadSensitiveContext`)
  and keeps it until the response is finished — for a live-update stream, for
  hours — and a new thread needs a new database wrapper. Here requests run in a
  fixed pool of threads (`WEB_THREADS` per process), each keeping its wrapper;
  its connection goes back to the psycopg pool when the request's work is done.

Async views still work: Django calls them through `async_to_sync`, which runs
them on the server's event loop, and a streaming response with an async
iterator (the live-update stream) is consumed on the event loop by
`send_response` without holding a thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections
from django.http import FileResponse


class OneHopASGIHandler(ASGIHandler):
    """`middleware`: this handler's own list instead of settings.MIDDLEWARE (the channel's webhook)."""

    def __init__(self, middleware: list[str] | None = None) -> None:
        self._middleware = middleware
        super().__init__()
        self._executor = ThreadPoolExecutor(max_workers=settings.WEB_THREADS, thread_name_prefix="request")

    async def __call__(self, scope, receive, send):
        # Without Django's per-request ThreadSensitiveContext: inside one, the first
        # thread-sensitive call (the request_started signal's receivers) starts a thread
        # that lives as long as the request — for a live-update stream, for hours
        # (200 open streams took a worker from 32 to 250 threads). The few
        # thread-sensitive calls left (signals, closing the response) are short and
        # share asgiref's one thread instead; the request's own work runs in the pool.
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)

    def load_middleware(self, is_async: bool = False) -> None:
        if self._middleware is None:
            super().load_middleware(is_async=False)
            return
        # Django builds the chain from settings.MIDDLEWARE only; this runs once, at start-up.
        everyone = settings.MIDDLEWARE
        settings.MIDDLEWARE = self._middleware
        try:
            super().load_middleware(is_async=False)
        finally:
            settings.MIDDLEWARE = everyone

    async def run_get_response(self, request):
        respond = sync_to_async(self._respond, thread_sensitive=False, executor=self._executor)
        response = await respond(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # ASGI servers chunk large files themselves
        return response

    def _respond(self, request):
        try:
            return self.get_response(request)
        finally:
            # This thread serves another request next, and Django's request_finished
            # signal (which would close connections) runs in a different thread: close
            # here whatever the request's settings say is done (CONN_MAX_AGE, the pool).
            close_old_connections()
