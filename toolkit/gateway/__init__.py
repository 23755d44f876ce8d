"""The live bridging gateway (`ocppkit bridge`): legacy chargers in, OCPP 2.0.1 out.

Modules, one concern each:

- :mod:`~toolkit.gateway.config` -- settings from a TOML file, environment and flags;
- :mod:`~toolkit.gateway.server` -- the aiohttp application on one port, the offline policy;
- :mod:`~toolkit.gateway.session` -- the per-charger loop driving the translator;
- :mod:`~toolkit.gateway.pumps` -- one call at a time towards each peer;
- :mod:`~toolkit.gateway.answers` -- CALLERRORs we answer, checks on what we send;
- :mod:`~toolkit.gateway.store` -- SQLite (WAL): translator state and the durable outbox;
- :mod:`~toolkit.gateway.upstream` -- one 2.0.1 WebSocket client per charger, reconnecting;
- :mod:`~toolkit.gateway.links` -- the charger side of a session (WebSocket);
- :mod:`~toolkit.gateway.soap` -- OCPP 1.5 SOAP chargers on ``/ocpp/soap15``;
- :mod:`~toolkit.gateway.passthrough` -- 2.0.1 stations piped through unchanged;
- :mod:`~toolkit.gateway.services` -- what all sessions share; the journal hook;
- :mod:`~toolkit.gateway.metrics` -- Prometheus text exposition;
- :mod:`~toolkit.gateway.logs` -- structured logs (key=value or JSON);
- :mod:`~toolkit.gateway.bench` -- the ``bridge`` suite of ``ocppkit bench``.
"""
