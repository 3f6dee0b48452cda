"""ASGI entry for several web processes: ``uvicorn core.asgi:app``."""

from core import tasks  # noqa: F401  (tasks must be declared to be sent)
from core.app import create_app

app = create_app()
