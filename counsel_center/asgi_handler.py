"""Django's ASGI handler with each request's synchronous work done in one hop to a pooled thread.

Two costs of Django's own ASGI handler, measured on the webhook (docs/perf.md):

- It builds the middleware chain in async mode, and every `MiddlewareMixin`
  middleware (all of Django's own, WhiteNoise's) then calls its
  `process_request`/`process_response` through `sync_to_async`: about 36
  thread hops per request with our ten middleware, 3.6 ms of CPU for a request
  that does nothing. Our views are synchronous, so here the whole request —
  middleware and view — runs synchronously, as under WSGI.
- It starts and joins a new thread for every request (asgiref's
  `ThreadSensitiveContext`), and a new thread needs a new database wrapper.
  Here requests run in a fixed pool of threads (`WEB_THREADS` per process), each
  keeping its wrapper; its connection goes back to the psycopg pool when the
  request's work is done.

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
    def __init__(self) -> None:
        super().__init__()
        self._executor = ThreadPoolExecutor(max_workers=settings.WEB_THREADS, thread_name_prefix="request")

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

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
