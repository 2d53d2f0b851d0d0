"""Running arbx as a deployment: the pre-start checks of ``arbx deploy check`` and the Prometheus endpoint."""
