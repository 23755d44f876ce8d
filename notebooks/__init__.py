"""The analysis notebooks, shipped as package data: ``ocppkit notebooks DIR`` copies them out."""
