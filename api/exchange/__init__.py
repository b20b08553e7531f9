"""The exchange, in the stages of an order's path (README, layout):

    commands.py      one typed, frozen command per kind, checked at the door (the routes build them; a dict
                     only on the Redis stream between processes)
    routing.py       Exchange: which process owns which book (fenced by an epoch), the stream to the owner
    ownership.py     the coordinator routing works through, and the single process's (owns every book)
    cluster.py       several processes' coordinator: advisory locks, epochs, the streams to the owner
    writer.py        one thread per book: queue, batches, futures, run splitting
    desk.py          InstrumentDesk: a batch in one transaction → one commit → answers → market data
    handlers.py      per command: plan (registry.services.trading) → engine → settle
                     (registry.services.settlement)
    market_data.py   trades and book changes to the WebSocket clients
    market_hours.py  the trading calendar's phases for the engine

Nothing here imports registry.orm: the ledger is reached through the registry's services
(tests/unit/test_exchange_commands.py).
"""
