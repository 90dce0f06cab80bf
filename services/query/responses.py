"""Answering with a model serialised once.

Results are built from database rows without validation (``model_construct``); returning the JSON directly
spares FastAPI a second validation and serialisation of a page of articles. The route's ``response_model``
still documents the shape.
"""

from __future__ import annotations

from fastapi.responses import Response
from pydantic import BaseModel


def json_response(model: BaseModel, *, status_code: int = 200) -> Response:
    # Tags arrive as the JSON objects PostgreSQL built in the documented shape, not as models: no warning.
    content = model.model_dump_json(warnings=False)
    return Response(content=content, media_type="application/json", status_code=status_code)
