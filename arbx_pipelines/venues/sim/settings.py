"""Runtime settings of the simulated venues, built from the ``simulator`` section of ``arbx.yaml``.

A plain dataclass (not the pydantic config) so tests and benchmarks can build a simulator without a config file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arbx_pipelines.config.schema import SimulatorConfig

#: the shared folder of real recorded data, beside the project checkout
DEFAULT_HISTORY_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data"

DEFAULT_API_KEY = "arbx-sim-key"
DEFAULT_SECRET = "arbx-sim-secret"
DEFAULT_PASSPHRASE = "arbx-sim-pass"
#: a fixed market instant for reproducible runs (tests, benchmarks, scenarios): 2025-08-01 03:00 UTC, inside the
#: recorded 2025 funding data and between settlements
REPRODUCIBLE_MARKET_START_MS = 1754017200000


@dataclass(frozen=True)
class FeeSchedule:
    """Maker/taker fee rates of one venue (fractions: 0.001 = 0.1%)."""

    spot_maker: Decimal = Decimal("0.001")
    spot_taker: Decimal = Decimal("0.001")
    swap_maker: Decimal = Decimal("0.0002")
    swap_taker: Decimal = Decimal("0.0005")

    def rate(self, swap: bool, maker: bool) -> Decimal:
        if swap:
            return self.swap_maker if maker else self.swap_taker
        return self.spot_maker if maker else self.spot_taker


@dataclass(frozen=True)
class SimSettings:
    host: str = "127.0.0.1"
    port: int = 8700
    api_key: str = DEFAULT_API_KEY
    secret: str = DEFAULT_SECRET
    passphrase: str = DEFAULT_PASSPHRASE
    seed: int = 42
    speed: float = 1.0
    #: real history to replay; None disables replay (seeded generator only)
    history_dir: Path | None = DEFAULT_HISTORY_DIR
    #: USDT each venue starts with, split between its spot and futures wallets by the venue module
    start_balance_usdt: Decimal = Decimal("500")
    #: simulated time at start (ms since epoch); None: the wall clock at start (see ``market_start_ms``)
    start_ms: int | None = None
    #: the market instant the simulation starts from: prices and funding then follow from the seed and the time
    #: elapsed on the simulated clock, whatever the date. With ``start_ms`` None the reported clock starts at the
    #: first instant at or after the wall clock on the same place of the 8h settlement grid (clock.aligned_start).
    #: None: the market follows the reported clock (the calendar).
    market_start_ms: int | None = None
    #: False: a stepped clock that moves only when told (``/_admin/time``), so a run's prices never depend on how
    #: fast the machine is; True: it runs with the wall clock times ``speed``
    clock_running: bool = True
    #: fault rules active from the start (see faults.FaultRule.from_dict for the keys)
    faults: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    #: venues to serve; empty: every venue module that is installed
    venues: tuple[str, ...] = ()
    #: fee schedule per venue name; a venue not listed uses FeeSchedule()
    fees: dict[str, FeeSchedule] = field(default_factory=dict)
    #: the saved world (``<data_dir>/sim/world.json`` for ``arbx sim``): continued at start when it exists, written
    #: while the simulator runs and on stop; None: the world lives in memory only (tests, benchmarks)
    state_path: Path | None = None

    def fees_for(self, venue: str) -> FeeSchedule:
        return self.fees.get(venue, FeeSchedule())

    @classmethod
    def from_config(
        cls, config: SimulatorConfig, base_dir: Path | None = None, venues_config: Any = None, **overrides: Any
    ) -> SimSettings:
        """Settings from the validated config; a relative ``history_dir`` is relative to ``base_dir``.

        ``venues_config`` (``ArbxConfig.venues``) supplies each venue's fee schedule.
        """
        history: Path | None = DEFAULT_HISTORY_DIR
        if config.history_dir:
            history = Path(config.history_dir)
            if not history.is_absolute() and base_dir is not None:
                history = base_dir / history
        values: dict[str, Any] = {
            "host": config.host,
            "port": config.port,
            "api_key": config.api_key,
            "secret": config.secret,
            "passphrase": config.passphrase,
            "seed": config.seed,
            "speed": config.speed,
            "history_dir": history,
            "start_balance_usdt": config.start_balance_usdt,
            "faults": tuple(rule.model_dump(exclude_none=True) for rule in getattr(config, "faults", ())),
        }
        if venues_config:
            values["fees"] = {
                str(getattr(venue, "value", venue)): FeeSchedule(
                    cfg.spot_maker_fee, cfg.spot_taker_fee, cfg.swap_maker_fee, cfg.swap_taker_fee
                )
                for venue, cfg in venues_config.items()
            }
        values.update(overrides)
        return cls(**values)
