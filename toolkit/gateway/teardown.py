"""A closed connection freed by reference counting, not by the cyclic collector.

Every charger that goes away leaves its session's objects behind: the session,
its core and endpoints, its upstream link, the two aiohttp WebSockets. Whatever
of them sits in a reference cycle waits for a collection of the generation it
reached, and that collection walks (and frees) all of it at once, with the
event loop stopped. Measured with ``gc.DEBUG_SAVEALL`` on a bridge in one
process, 200 chargers connected and then gone: 105 objects of cyclic garbage
per charger. In ``ocppkit bench bridge``, which reconnects its fleet of 1,000
for every run as a reconnect storm does, that was one generation-1 collection
of 108-125 ms per run, the whole p99 of any run it fell in.

Two kinds of cycle were ours to break, and are broken when a session ends:

1. **the session and its upstream link**: the link holds the session's bound
   methods (its frame and state callbacks), the session holds the link, and
   the session's finished tasks hold their coroutines
   (:meth:`~ocppkit.toolkit.gateway.session.Session.stop`);
2. **the exceptions a closed WebSocket keeps** (``ws.exception()``: the reset
   or end-of-stream that closed it) hold, through their tracebacks, the frames
   of the reader, the writer and the loops that were running, which hold the
   WebSocket: :func:`forget_traceback`.

After both, 49 objects per charger are left to the collector, the cycles among
aiohttp's own connection objects (transports, protocols, request handlers).
"""

from __future__ import annotations


def forget_traceback(exc: BaseException | None) -> None:
    """Drop the tracebacks of ``exc`` and of the exceptions chained to it.

    For an exception that has been handled and is kept only as a record (a
    closed WebSocket's ``exception()``): its type, message and chain stay, the
    frames it pinned are released.
    """
    seen: set[int] = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        e.__traceback__ = None
        todo += (e.__cause__, e.__context__)
