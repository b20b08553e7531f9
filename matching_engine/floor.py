"""The floor: the state every mode of one instrument shares (clock, sequence numbers, phase, reference price and
band, the timer queue, and market data), as the trading floor is shared by the book, the listing board, the
negotiated-transfer desk and the auction house. Internal to the engine; the facade is
:class:`matching_engine.Engine`. (Not "session": in this code base that word means the database session only.)"""

from __future__ import annotations

import heapq
import sys

from matching_engine.config import InstrumentConfig, band_limits
from matching_engine.enums import Phase, Reason, ReferencePriceRule, Side, TradeMode
from matching_engine.events import Event, Rejected, Trade
from matching_engine.records import Bar, FloorState, LastTrade

NO_LOWER_LIMIT = 0
NO_UPPER_LIMIT = sys.maxsize

# Timer kinds, in the order timers due at the same instant are handled (then by id): deterministic.
TIMER_ORDER = 0
TIMER_LISTING = 1
TIMER_PROPOSAL = 2
TIMER_AUCTION = 3


class MarketData:
    """Last trade and the current day's bar, from the trades of the configured modes, plus closed days."""

    __slots__ = (
        "bars",
        "close_fen",
        "high_fen",
        "last_trade",
        "low_fen",
        "modes",
        "open_fen",
        "trade_count",
        "trading_day",
        "turnover_fen",
        "volume_t",
    )

    def __init__(self, modes: frozenset[TradeMode]) -> None:
        self.modes = modes
        self.last_trade: LastTrade | None = None
        self.bars: list[Bar] = []
        self.trading_day: str | None = None
        self._reset()

    def _reset(self) -> None:
        self.open_fen: int | None = None
        self.high_fen = 0
        self.low_fen = 0
        self.close_fen = 0
        self.volume_t = 0
        self.turnover_fen = 0
        self.trade_count = 0

    def start_day(self, trading_day: str) -> None:
        """Begin an empty bar for ``trading_day``."""
        self.trading_day = trading_day
        self._reset()

    def record(self, price_fen: int, quantity_t: int, ts_ms: int, mode: TradeMode) -> None:
        """Count one trade (the caller has checked its mode counts)."""
        self.last_trade = LastTrade(price_fen, quantity_t, ts_ms, mode)
        if self.open_fen is None:
            self.open_fen = self.high_fen = self.low_fen = price_fen
        elif price_fen > self.high_fen:
            self.high_fen = price_fen
        elif price_fen < self.low_fen:
            self.low_fen = price_fen
        self.close_fen = price_fen
        self.volume_t += quantity_t
        self.turnover_fen += price_fen * quantity_t
        self.trade_count += 1

    def bar(self) -> Bar | None:
        """The current day's bar so far (None outside a day)."""
        if self.trading_day is None:
            return None
        if self.open_fen is None:
            return Bar(self.trading_day)
        return Bar(
            self.trading_day,
            self.open_fen,
            self.high_fen,
            self.low_fen,
            self.close_fen,
            self.volume_t,
            self.turnover_fen,
            self.trade_count,
        )

    def close_day(self) -> Bar:
        """Finish the current bar and keep it in the history."""
        bar = self.bar()
        assert bar is not None
        self.bars.append(bar)
        self.trading_day = None
        self._reset()
        return bar

    def restore(self, last_trade: LastTrade | None, bar: Bar | None, bars: tuple[Bar, ...]) -> None:
        """Put back what :meth:`bar`, ``last_trade`` and ``bars`` showed."""
        self.last_trade = last_trade
        self.bars = list(bars)
        self._reset()
        self.trading_day = None
        if bar is not None:
            self.trading_day = bar.trading_day
            if bar.open_fen is not None:
                self.open_fen = bar.open_fen
                self.high_fen = bar.high_fen or 0
                self.low_fen = bar.low_fen or 0
                self.close_fen = bar.close_fen or 0
                self.volume_t = bar.volume_t
                self.turnover_fen = bar.turnover_fen
                self.trade_count = bar.trade_count


class Floor:
    """The floor of one instrument's engine: its shared mutable state."""

    __slots__ = (
        "band_high_fen",
        "band_low_fen",
        "config",
        "market",
        "market_modes",
        "now_ms",
        "phase",
        "reference_price_fen",
        "seq",
        "timers",
        "trade_id",
        "trading_day",
    )

    def __init__(self, config: InstrumentConfig) -> None:
        self.config = config
        self.now_ms = -sys.maxsize
        self.seq = 0  # the last sequence number handed out
        self.trade_id = 0
        self.phase = Phase.CLOSED
        self.trading_day = ""
        self.timers: list[tuple[int, int, int]] = []
        self.market = MarketData(config.market_data_modes)
        self.market_modes = config.market_data_modes
        self.reference_price_fen: int | None = None
        self.band_low_fen = NO_LOWER_LIMIT
        self.band_high_fen = NO_UPPER_LIMIT
        self.set_reference(config.reference_price_fen)

    def set_reference(self, reference_price_fen: int | None) -> None:
        """Take a new reference price and recompute the order book's price band from it."""
        self.reference_price_fen = reference_price_fen
        limits = band_limits(reference_price_fen, self.config.price_band_bp, self.config.tick_fen)
        self.band_low_fen, self.band_high_fen = limits if limits else (NO_LOWER_LIMIT, NO_UPPER_LIMIT)

    def band_check(self, price_fen: int, band_bp: int | None) -> Reason | None:
        """PRICE_BELOW_BAND / PRICE_ABOVE_BAND when ``price_fen`` is outside ``band_bp`` of the reference."""
        limits = band_limits(self.reference_price_fen, band_bp, self.config.tick_fen)
        if limits is None:
            return None
        if price_fen < limits[0]:
            return Reason.PRICE_BELOW_BAND
        if price_fen > limits[1]:
            return Reason.PRICE_ABOVE_BAND
        return None

    def open_check(self) -> Reason | None:
        """MARKET_CLOSED or TRADING_HALTED unless the phase lets new interest in (CALL or CONTINUOUS)."""
        phase = self.phase
        if phase is Phase.CLOSED:
            return Reason.MARKET_CLOSED
        if phase is Phase.HALTED:
            return Reason.TRADING_HALTED
        return None

    def add_timer(self, deadline_ms: int, kind: int, object_id: int) -> None:
        """Wake the engine for ``object_id`` at ``deadline_ms``."""
        heapq.heappush(self.timers, (deadline_ms, kind, object_id))

    def reject(
        self, events: list[Event], ts_ms: int, command: str, ref_id: int | None, reason: Reason
    ) -> None:
        """Append a ``Rejected`` event."""
        self.seq += 1
        events.append(Rejected(self.seq, ts_ms, command, ref_id, reason))

    def trade(
        self,
        ts_ms: int,
        mode: TradeMode,
        price_fen: int,
        quantity_t: int,
        buy_id: int,
        sell_id: int,
        buy_account_id: str,
        sell_account_id: str,
        aggressor: Side | None,
        batch_id: str | None,
    ) -> Trade:
        """A new ``Trade`` event with the next sequence number and trade id, counted in market data."""
        self.seq += 1
        self.trade_id += 1
        if mode in self.market_modes:
            self.market.record(price_fen, quantity_t, ts_ms, mode)
        return Trade(
            self.seq,
            ts_ms,
            self.trade_id,
            mode,
            price_fen,
            quantity_t,
            buy_id,
            sell_id,
            buy_account_id,
            sell_account_id,
            aggressor,
            batch_id,
        )

    def auction_reference_fen(self) -> int | None:
        """The price a call auction's last tie-breaker aims at: today's last trade, else the reference."""
        market = self.market
        if market.open_fen is not None:
            return market.close_fen
        return self.reference_price_fen

    def next_reference(self, bar: Bar) -> int | None:
        """The next day's reference price by the configured rule; unchanged when the day had no trades."""
        if bar.close_fen is None:
            return self.reference_price_fen
        if self.config.reference_price_rule is ReferencePriceRule.PREVIOUS_VWAP:
            return bar.vwap_fen
        return bar.close_fen

    def state(self) -> FloorState:
        """The record :meth:`restore` takes back."""
        return FloorState(
            self.now_ms,
            self.seq + 1,
            self.trade_id + 1,
            self.phase,
            self.trading_day,
            self.reference_price_fen,
            self.market.last_trade,
            self.market.bar(),
            tuple(self.market.bars),
        )

    def restore(self, state: FloorState) -> None:
        """Take the clock, counters, phase, reference and market data from ``state``."""
        self.now_ms = state.now_ms
        self.seq = state.next_seq - 1
        self.trade_id = state.next_trade_id - 1
        self.phase = state.phase
        self.trading_day = state.trading_day
        self.set_reference(state.reference_price_fen)
        self.market.restore(state.last_trade, state.bar, state.bars)
