"""Django's ASGI handler with the middleware chain run synchronously, in one thread hop per request.

Under ASGI Django builds the middleware chain in async mode, and every
`MiddlewareMixin` middleware (all of Django's own, WhiteNoise's) then calls its
`process_request`/`process_response` through `sync_to_async`: about 36 thread
hops per request with our ten middleware, measured at 3.6 ms of CPU for a
request that does nothing (docs/perf.md). Our views are synchronous, so the
whole request — middleware and view — runs in one worker thread, as under WSGI.

Async views still work: Django calls them with `async_to_sync`, which runs
them on the server's event loop, and a streaming response with an async
iterator (the live-update stream) is consumed on the event loop by
`send_response`, without holding a thread.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def run_get_response(self, request):
        # thread_sensitive: inside the handler's per-request ThreadSensitiveContext, one thread per request.
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # ASGI servers chunk large files themselves
        return response
