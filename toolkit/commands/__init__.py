"""One module per `ocppkit` command; each defines ``register(app)``."""
