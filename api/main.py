"""The ASGI application for uvicorn: `uvicorn api.main:app`."""

from api.app import create_app
from api.gc_tuning import settle_start_up

app = create_app()
settle_start_up()
