"""The validated shape of ``arbx.yaml``: every key, its type and its allowed range.

Unknown keys are rejected (``extra="forbid"``) so a typo never silently falls back to a default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from arbx_pipelines.core.models import Mode, Venue


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


Fraction = Field(ge=0, le=1)
#: an asset symbol as the venues spell it (upper case letters and digits: DOGE, 1INCH)
COIN_SYMBOL = re.compile(r"^[A-Z0-9]{1,20}$")
QUOTE_COIN = "USDT"
#: upper bounds of amounts: far above anything one trader's account holds, low enough to catch a typo (1e400)
MAX_USDT = Decimal("1000000")
MAX_COIN_AMOUNT = Decimal("1000000000000")
CoinAmount = Annotated[Decimal, Field(ge=0, le=MAX_COIN_AMOUNT)]


DATABASE_SCHEMES = ("sqlite", "postgresql", "postgres")


class DatabaseConfig(Strict):
    url: str | None = Field(default=None, description="SQLAlchemy URL; default: SQLite file under data_dir")
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _supported_backend(cls, value: str | None) -> str | None:
        """Only SQLite and PostgreSQL are supported: another backend is refused here, not at the first query."""
        if value is None:
            return value
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme.split("+", 1)[0] not in DATABASE_SCHEMES:
            raise ValueError(
                f"{scheme or value!r} is not a supported database; use sqlite:///path/arbx.db or "
                "postgresql+psycopg://user@host:5432/db"
            )
        return value


class RedisConfig(Strict):
    url: str | None = Field(default=None, description="redis://host:port/db; unset: state lives in the database")
    prefix: str = Field(
        default="", max_length=64, description="put before every key: several deployments (or tests) share one Redis"
    )


class VenueConfig(Strict):
    enabled: bool = True
    spot_taker_fee: Decimal = Field(default=Decimal("0.001"), ge=0, le=Decimal("0.01"))
    spot_maker_fee: Decimal = Field(default=Decimal("0.001"), ge=0, le=Decimal("0.01"))
    swap_taker_fee: Decimal = Field(default=Decimal("0.0005"), ge=0, le=Decimal("0.01"))
    swap_maker_fee: Decimal = Field(default=Decimal("0.0002"), ge=0, le=Decimal("0.01"))
    risk_factor: Decimal = Field(default=Decimal("1"), gt=0, le=1, description="multiplies opportunity scores")
    capital_share: Decimal = Field(default=Decimal("0.34"), gt=0, le=1, description="max share of capital here")
    reserve_balance_usdt: Decimal = Field(
        default=Decimal("10"), ge=0, le=MAX_USDT, description="never trade below this"
    )


def _default_venues() -> dict[Venue, VenueConfig]:
    return {venue: VenueConfig() for venue in Venue}


class SimFaultConfig(Strict):
    """One fault rule of the simulated venues (arbx_pipelines/venues/sim/faults.py documents each kind)."""

    kind: Literal["latency", "timeout_after_accept", "reject", "rate_limit", "partial_fill", "drop_connection"]
    venue: str = Field(default="*", description="binance, okx, bitget or * for all")
    endpoint: str = Field(default="*", description="fnmatch pattern over 'METHOD /path', e.g. 'POST /fapi/v1/order'")
    probability: float = Field(default=1.0, gt=0, le=1)
    times: int | None = Field(
        default=None, ge=1, le=1_000_000, description="how many requests it may hit; unset: unlimited"
    )
    latency_ms: float = Field(default=0, ge=0, le=600_000)
    hang_ms: float = Field(
        default=30000, ge=0, le=600_000, description="timeout_after_accept: hold the connection this long"
    )
    reason: str = Field(default="insufficient_balance", description="reject: engine error kind, e.g. min_notional")
    fill_ratio: float = Field(default=0.5, ge=0, lt=1, description="partial_fill: share of the amount filled")
    weight_limit: int | None = Field(
        default=None, ge=0, le=1_000_000, description="rate_limit: weight per minute; unset: always"
    )
    after_accept: bool = Field(default=False, description="drop_connection: after handling the request")


class DislocationConfig(Strict):
    """Cross-venue dislocations of the simulated market (``venues/sim/streams/dislocations.py``)."""

    enabled: bool = False
    coins: list[str] = Field(default_factory=lambda: ["BTC", "ETH", "SOL", "XRP", "DOGE"])
    every_ms: int = Field(
        default=15000, ge=1000, le=3_600_000, description="one dislocation per coin in each slot this long"
    )
    min_bps: float = Field(default=25.0, ge=0, le=1000)
    max_bps: float = Field(default=60.0, ge=0, le=1000)
    min_ms: int = Field(default=400, ge=1, le=3_600_000)
    max_ms: int = Field(default=2500, ge=1, le=3_600_000)
    lag_ms: dict[str, Annotated[int, Field(ge=0, le=60_000)]] = Field(
        default_factory=dict, description="venue -> how far its book stream lags (ms, 0..60000)"
    )

    @model_validator(mode="after")
    def _ordered(self) -> DislocationConfig:
        if not (self.min_ms <= self.max_ms < self.every_ms and self.min_bps <= self.max_bps):
            raise ValueError("need min_ms <= max_ms < every_ms and min_bps <= max_bps")
        return self


class SimulatorConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=1, le=65535)
    api_key: str = "arbx-sim-key"
    secret: str = "arbx-sim-secret"
    passphrase: str = "arbx-sim-pass"
    seed: int = Field(default=42, ge=0, le=2**32 - 1)
    speed: float = Field(default=1.0, gt=0, le=100000, description="simulated seconds per real second")
    history_dir: str | None = Field(default=None, description="real history to replay; default ../shared/data")
    start_balance_usdt: Decimal = Field(default=Decimal("500"), ge=0, le=MAX_USDT)
    faults: list[SimFaultConfig] = Field(default_factory=list, description="fault rules active from the start")
    dislocations: DislocationConfig = Field(default_factory=DislocationConfig)


class StrategyConfig(Strict):
    entry_annualized: Decimal = Field(default=Decimal("0.5"), gt=0, le=100)
    exit_annualized: Decimal = Field(default=Decimal("0.1"), ge=0, le=100)
    max_holding_days: int = Field(default=14, ge=1, le=365)
    planned_holding_hours: int = Field(default=72, ge=1, le=24 * 365)
    profit_target_usdt: Decimal | None = Field(default=None, gt=0, le=MAX_USDT)
    allow_margin_borrow: bool = False
    symbols: list[str] = Field(default_factory=list, description="empty: every listed USDT perpetual")
    max_leverage: int = Field(default=5, ge=1, le=5)
    min_leverage: int = Field(default=1, ge=1, le=5, description="dynamic leverage never goes below this")
    min_persistence: Decimal = Field(
        default=Decimal("0.5"), ge=0, le=1, description="share of the last 21 settlements that paid our side"
    )
    spot_inventory: dict[Venue, dict[str, CoinAmount]] = Field(
        default_factory=dict,
        description="venue -> {coin: amount}: coins kept in that venue's spot wallet that negative-funding hedges "
        "may sell (bought back on close); anything else in the wallet is never sold",
    )

    @field_validator("spot_inventory", mode="before")
    @classmethod
    def _inventory_keys(cls, value: object) -> object:
        """Venue names must be known and coins are upper-cased, so a typo never declares nothing silently."""
        if not isinstance(value, Mapping):
            return value  # pydantic names the wrong type
        known = [venue.value for venue in Venue]
        cleaned: dict[str, object] = {}
        for venue, coins in value.items():
            if str(venue) not in known:
                raise ValueError(f"unknown venue {str(venue)!r}; allowed: {', '.join(known)}")
            if coins is None:
                coins = {}
            if not isinstance(coins, Mapping):
                raise ValueError(f"{venue} must map coins to amounts, e.g. {{DOGE: 1000}}; got {coins!r}")
            per_venue: dict[str, object] = {}
            for coin, amount in coins.items():
                symbol = str(coin).strip().upper()
                if not COIN_SYMBOL.match(symbol):
                    raise ValueError(f"{venue}: {str(coin)!r} is not an asset symbol (letters and digits, e.g. DOGE)")
                if symbol == QUOTE_COIN:
                    raise ValueError(f"{venue}: {QUOTE_COIN} is the quote currency, not a coin to sell")
                if symbol in per_venue:
                    raise ValueError(f"{venue}: {symbol} is declared twice")
                per_venue[symbol] = amount
            cleaned[str(venue)] = per_venue
        return cleaned

    @model_validator(mode="after")
    def _exit_below_entry(self) -> StrategyConfig:
        if self.exit_annualized >= self.entry_annualized:
            raise ValueError(
                f"exit_annualized ({self.exit_annualized}) must be below entry_annualized ({self.entry_annualized})"
            )
        if self.min_leverage > self.max_leverage:
            raise ValueError(f"min_leverage ({self.min_leverage}) must not exceed max_leverage ({self.max_leverage})")
        return self


class RiskConfig(Strict):
    min_trade_usdt: Decimal = Field(default=Decimal("10"), gt=0, le=MAX_USDT)
    max_trade_usdt: Decimal = Field(default=Decimal("150"), gt=0, le=MAX_USDT)
    daily_amount_usdt: Decimal = Field(default=Decimal("1000"), gt=0, le=10 * MAX_USDT)
    daily_trade_count: int = Field(default=20, ge=1, le=10_000)
    max_single_loss_usdt: Decimal = Field(default=Decimal("10"), gt=0, le=MAX_USDT)
    max_daily_loss_usdt: Decimal = Field(default=Decimal("25"), gt=0, le=MAX_USDT)
    min_profit_rate: Decimal = Field(default=Decimal("0.001"), ge=0, le=1)
    circuit_breaker_failures: int = Field(default=3, ge=1, le=100)
    max_coin_share: Decimal = Field(default=Decimal("0.6"), gt=0, le=1)
    max_account_share: Decimal = Field(default=Decimal("0.75"), gt=0, le=1)
    hedge_deviation_rebalance: Decimal = Field(default=Decimal("0.03"), gt=0, le=1)
    anomaly_z: float = Field(default=3.0, gt=0, le=100)

    @model_validator(mode="after")
    def _min_below_max(self) -> RiskConfig:
        if self.min_trade_usdt > self.max_trade_usdt:
            raise ValueError(
                f"min_trade_usdt ({self.min_trade_usdt}) must not exceed max_trade_usdt ({self.max_trade_usdt})"
            )
        return self


class SpreadConfig(Strict):
    """Cross-exchange spot arbitrage (``arbx engine``)."""

    enabled: bool | None = Field(default=None, description="unset: on in sim mode, off in every other mode")
    min_profit_rate: Decimal = Field(default=Decimal("0.002"), ge=0, le=1)
    min_profit_usdt: Decimal = Field(default=Decimal("0.5"), ge=0, le=MAX_USDT)
    symbols: list[str] = Field(
        default_factory=lambda: ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"],
        description="spot pairs watched on every enabled venue",
    )
    max_in_flight: int = Field(default=5, ge=1, le=50, description="arbitrages running at once")
    task_timeout_seconds: float = Field(default=20, gt=0, le=300, description="per arbitrage, both legs and flattening")
    send_deadline_ms: int = Field(
        default=50, ge=1, le=10_000, description="an arbitrage not sent this soon after its book update is dropped"
    )
    max_book_skew_ms: int = Field(
        default=200, ge=1, le=60_000, description="two venues' books further apart in venue time are not compared"
    )

    @field_validator("symbols")
    @classmethod
    def _spot_pairs(cls, symbols: list[str]) -> list[str]:
        for symbol in symbols:
            if symbol.count("/") != 1 or ":" in symbol:
                raise ValueError(f"{symbol!r} is not a spot pair like BTC/USDT")
        return symbols

    def active(self, mode: Mode) -> bool:
        return self.enabled if self.enabled is not None else mode is Mode.SIM


class ExecutionConfig(Strict):
    """How orders are sent (DESIGN, "Execution protocol")."""

    max_slippage: Decimal = Field(
        default=Decimal("0.003"), ge=0, lt=Decimal("0.05"), description="IOC limit = validated price x (1 +/- this)"
    )
    order_timeout_seconds: float = Field(
        default=25, gt=0, le=300, description="per order: look-ups and resends by client order id stop after this"
    )
    order_in_flight_seconds: float = Field(
        default=6, gt=0, le=60, description="how long a sent order's request may still reach the venue (recvWindow)"
    )
    max_pending_orders_per_venue: int = Field(default=3, ge=1, le=50, description="orders in flight per venue")
    correction_rounds: int = Field(default=4, ge=1, le=20, description="hedge/unwind orders after a leg imbalance")


class ScheduleConfig(Strict):
    funding_snapshot_minutes: int = Field(default=10, ge=1, le=1440)
    funding_snapshot_volatile_minutes: int = Field(default=3, ge=1, le=1440)
    quotes_minutes: int = Field(default=1, ge=1, le=1440)
    reconcile_minutes: int = Field(default=15, ge=1, le=1440)


class TelegramConfig(Strict):
    enabled: bool = False
    api_url: str = "https://api.telegram.org"
    chat_id: str | None = None
    owner_chat_id: str | None = Field(
        default=None, description="the only chat whose commands are answered; unset: chat_id"
    )
    poll_seconds: int = Field(default=5, ge=1, le=50, description="long-polling wait of getUpdates")


class EmailConfig(Strict):
    enabled: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    sender: str = "arbx@localhost"
    recipients: list[str] = Field(default_factory=list)


class NotifyConfig(Strict):
    telegram: TelegramConfig = Field(default_factory=TelegramConfig)
    email: EmailConfig = Field(default_factory=EmailConfig)
    max_per_minute: int = Field(default=10, ge=1, le=1000)


class SecretsConfig(Strict):
    file: str = "secrets.enc"
    passphrase_env: str = "ARBX_SECRETS_PASSPHRASE"


class LoggingConfig(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["json", "kv"] = "kv"


class MetricsConfig(Strict):
    port: int | None = Field(
        default=None, ge=1, le=65535, description="Prometheus endpoint on 127.0.0.1 (e.g. 9108); unset: off"
    )


class HistoryConfig(Strict):
    rate_caps: dict[str, Decimal] = Field(
        default_factory=dict,
        description="max |funding rate| per settlement for the out-of-range check, keyed 'venue' or "
        "'venue:SYMBOL' (e.g. 'bitget:BTC/USDT:USDT': 0.003); unset: core.history_checks.DEFAULT_RATE_CAPS",
    )
    freshness_grace_minutes: int = Field(
        default=30, ge=0, le=7 * 24 * 60, description="how late the next settlement may be before history is stale"
    )

    @model_validator(mode="after")
    def _caps_are_fractions(self) -> HistoryConfig:
        for key, cap in self.rate_caps.items():
            if not Decimal(0) < cap <= Decimal("0.05"):
                raise ValueError(f"history.rate_caps[{key!r}] = {cap}: a cap is a fraction in (0, 0.05]")
        return self


class ArbxConfig(Strict):
    mode: Mode = Mode.SIM
    live_trading_confirmed: bool = Field(
        default=False, description="live mode also needs --live on the command line at every start"
    )
    data_dir: str = Field(default="data", description="project-local folder for SQLite, reports and state")
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    redis: RedisConfig = Field(default_factory=RedisConfig)
    venues: dict[Venue, VenueConfig] = Field(default_factory=_default_venues)
    simulator: SimulatorConfig = Field(default_factory=SimulatorConfig)
    strategy: StrategyConfig = Field(default_factory=StrategyConfig)
    risk: RiskConfig = Field(default_factory=RiskConfig)
    spread: SpreadConfig = Field(default_factory=SpreadConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    schedules: ScheduleConfig = Field(default_factory=ScheduleConfig)
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)

    @field_validator("venues", mode="before")
    @classmethod
    def _venues_default_to_enabled(cls, value: object) -> object:
        """A venue left out of ``venues`` keeps its defaults (enabled): listing one venue never drops the others."""
        if isinstance(value, dict):
            return {**{venue.value: {} for venue in Venue}, **{k: ({} if v is None else v) for k, v in value.items()}}
        return value

    @model_validator(mode="after")
    def _at_least_one_venue(self) -> ArbxConfig:
        if not any(v.enabled for v in self.venues.values()):
            raise ValueError("at least one venue must be enabled")
        return self

    def enabled_venues(self) -> list[Venue]:
        return [venue for venue, cfg in self.venues.items() if cfg.enabled]

    def venue(self, venue: Venue) -> VenueConfig:
        return self.venues.get(venue) or VenueConfig(enabled=False)
