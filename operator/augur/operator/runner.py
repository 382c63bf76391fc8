"""Run the operator in this process (``augur operator run``)."""

from __future__ import annotations

import importlib
import logging

import kopf

from augur.operator import settings as settings_module
from augur.operator.settings import OperatorSettings


def run(settings: OperatorSettings) -> None:
    settings_module.SETTINGS = settings
    kopf.configure(
        verbose=False,
        log_format=kopf.LogFormat.JSON if settings.log_format == "json" else kopf.LogFormat.PLAIN,
        log_prefix=True,
    )
    logging.getLogger("kubernetes").setLevel(logging.WARNING)
    importlib.import_module("augur.operator.handlers")  # registers the handlers with the settings above
    kopf.run(
        standalone=True,
        clusterwide=not settings.namespaces,
        namespaces=list(settings.namespaces),
        liveness_endpoint=settings.liveness,
    )
