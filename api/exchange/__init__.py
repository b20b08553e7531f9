"""The exchange, in the stages of an order's path (README, layout):

    commands.py      the typed commands, checked at the door (the routes build them)
    routing.py       Exchange: which process owns which book, and the Redis stream to the owner
    ownership.py     the coordinators behind routing (advisory locks, streams, epochs)
    writer.py        one thread per book: queue, batches, futures, group commit and run splitting
    desk.py          InstrumentDesk: per command plan (registry.services.trading) → engine → settle
                     (registry.services.settlement) → one commit → answers → market data
    market_data.py   trades and book changes to the WebSocket clients
    market_hours.py  the trading calendar's phases for the engine
"""
