"""The HTTP faces over the services: the native ``/v1`` API (and, later, ``twilio/``)."""

from __future__ import annotations

from marconi.api.app import ApiOptions, MarconiApp, create_app

__all__ = ["ApiOptions", "MarconiApp", "create_app"]
