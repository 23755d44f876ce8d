"""A 1.6J charger behind a 2.0.1 CSMS: the translation both ways."""
