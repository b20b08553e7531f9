"""What the API answers, one module per area (`api/answers/<area>.py`): the pydantic response model of each
answer and the builder that shapes a registry object into it. Routes and exports both build their answers here,
so a CSV export and the JSON route never drift apart, and the OpenAPI document describes every answer."""
