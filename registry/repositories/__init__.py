"""Every query of the registry, one module per area (`registry/repositories/<area>.py`).

A repository function takes the SQLAlchemy `Session` first, is named for what it returns (`batch`,
`vintages_of`, `open_orders_of`), and takes `for_update=True` where the caller needs the rows locked. Services
load their facts through these functions, call `rules/` and the pure domain, then write; routes never see a
session. Nothing here commits."""
