"""ocppkit's sans-I/O core: OCPP frames, schemas, journal records, translators.

Nothing in this package opens a socket, a file it was not handed (the one
exception: package data, the official schemas), or reads a clock: time and
identifiers are passed in by the caller. :mod:`ocppkit.toolkit` builds on it;
it never imports :mod:`ocppkit.toolkit`.
"""
