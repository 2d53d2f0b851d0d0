"""The one error type of configuration problems (its own module so every config module can raise it)."""


class ConfigError(ValueError):
    """The configuration cannot be used; the message is one line a user can act on."""
