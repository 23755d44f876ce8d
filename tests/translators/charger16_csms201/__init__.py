"""Tests of the 1.6-charger / 2.0.1-CSMS translator."""
