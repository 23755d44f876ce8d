"""OCPP 2.0.1 <-> 2.1: a station of either version behind a CSMS of the other.

- :mod:`~ocppkit.translators.lift21.session`: a 2.0.1 station behind a 2.1 CSMS
  (and, chained after :mod:`~ocppkit.translators.charger16_csms201`, a 1.6 or
  1.5 charger behind a 2.1 CSMS: :func:`~ocppkit.translators.engine.chain`);
- :mod:`~ocppkit.translators.lift21.session_down`: a 2.1 station behind a 2.0.1 CSMS.

Both are the same generic handlers over a schema-guided fitting
(:mod:`~ocppkit.translators.lift21.fit`) and one set of tables
(:mod:`~ocppkit.translators.lift21.tables`).
"""
