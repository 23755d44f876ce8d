"""The live bridging gateway (`ocppkit bridge`): legacy chargers in, OCPP 2.0.1 out.

Modules, one concern each:

- :mod:`~ocppkit.toolkit.gateway.config` -- settings from a TOML file, environment and flags;
- :mod:`~ocppkit.toolkit.gateway.server` -- the aiohttp application on one port, the offline policy;
- :mod:`~ocppkit.toolkit.gateway.session` -- the per-charger shell around the sans-I/O
  core (:mod:`ocppkit.translators.bridge`): socket -> core -> commit -> send;
- :mod:`~ocppkit.toolkit.gateway.store` -- SQLite (WAL): translator state and the durable outbox;
- :mod:`~ocppkit.toolkit.gateway.upstream` -- one 2.0.1 WebSocket client per charger, reconnecting;
- :mod:`~ocppkit.toolkit.gateway.links` -- the charger side of a session (WebSocket);
- :mod:`~ocppkit.toolkit.gateway.soap` -- OCPP 1.5 SOAP chargers on ``/ocpp/soap15``;
- :mod:`~ocppkit.toolkit.gateway.passthrough` -- 2.0.1 stations piped through unchanged;
- :mod:`~ocppkit.toolkit.gateway.services` -- what all sessions share; the journal hook;
- :mod:`~ocppkit.toolkit.gateway.metrics` -- Prometheus text exposition;
- :mod:`~ocppkit.toolkit.gateway.logs` -- structured logs (key=value or JSON);
- :mod:`~ocppkit.toolkit.gateway.bench` -- the ``bridge`` suite of ``ocppkit bench``.
"""
