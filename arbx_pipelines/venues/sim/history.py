"""Real recorded history to replay (``../shared/data``): funding and prices per venue and coin.

Two sources, both optional (missing files leave the seeded generator in charge):

* ``binance_usdm_funding_95_symbols_2025/<SYM>USDT_funding.json``: raw Binance ``GET /fapi/v1/fundingRate`` answers
  (settlement time, rate, mark price) for 95 USDT perpetuals, 8h and 4h intervals.
* ``aha_hh_btc_eth_binance_bybit_okx/all_exchanges.csv``: 8-hourly BTC/ETH spot and USDT-perp closes with the
  funding settled at each bar, on Binance and OKX. Its times are Europe/London local time; they are converted to UTC
  and snapped to the 8h settlement grid.

A series is replayed in a loop: simulated time ``t`` reads the recorded point at
``first + ((t - first) mod span)``, with ``span`` a whole number of days so settlements stay on their UTC grid.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import json
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from arbx_pipelines.logs import get_logger
from arbx_pipelines.venues.sim.clock import DAY_MS, HOUR_MS

log = get_logger("arbx.sim.history")

FUNDING_95_DIR = "binance_usdm_funding_95_symbols_2025"
BTC_ETH_CSV = "aha_hh_btc_eth_binance_bybit_okx/all_exchanges.csv"
_CSV_COINS = {"bitcoin": "BTC", "ethereum": "ETH"}
_LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class ReplaySeries:
    """Settlement-aligned points of one (venue, coin): times in ms, funding rates, perp and spot prices."""

    times: tuple[int, ...]
    rates: tuple[float, ...]
    perp_prices: tuple[float, ...]
    spot_prices: tuple[float, ...] | None
    interval_hours: int

    @property
    def first_ms(self) -> int:
        return self.times[0]

    @property
    def span_ms(self) -> int:
        """Whole days covered, so a looped replay keeps settlements on the UTC grid."""
        covered = self.times[-1] - self.times[0] + self.interval_hours * HOUR_MS
        return max(DAY_MS, (covered // DAY_MS) * DAY_MS)

    def source_time(self, t_ms: int) -> int:
        return self.first_ms + (t_ms - self.first_ms) % self.span_ms

    def _index_at_or_before(self, source_ms: int) -> int:
        return max(0, bisect.bisect_right(self.times, source_ms) - 1)

    def rate_at_settlement(self, settle_ms: int) -> float | None:
        """The recorded rate of the settlement at ``settle_ms`` (None when the recording has a hole there)."""
        source = self.source_time(settle_ms)
        index = bisect.bisect_left(self.times, source)
        if index < len(self.times) and self.times[index] == source:
            return self.rates[index]
        return None

    def price_at(self, t_ms: float, spot: bool = False) -> float:
        """Log-linear interpolation between recorded points (wrapping at the end of the loop)."""
        prices = self.spot_prices if spot and self.spot_prices is not None else self.perp_prices
        source = self.first_ms + (t_ms - self.first_ms) % self.span_ms
        index = self._index_at_or_before(int(source))
        left_t, left_p = self.times[index], prices[index]
        if index + 1 < len(self.times):
            right_t, right_p = self.times[index + 1], prices[index + 1]
        else:
            right_t, right_p = self.first_ms + self.span_ms, prices[0]
        if right_t <= left_t:
            return left_p
        weight = min(1.0, max(0.0, (source - left_t) / (right_t - left_t)))
        return math.exp(math.log(left_p) + (math.log(right_p) - math.log(left_p)) * weight)


@dataclass(frozen=True)
class History:
    """Every replayable series, keyed by (venue, coin)."""

    series: dict[tuple[str, str], ReplaySeries]

    def get(self, venue: str, coin: str) -> ReplaySeries | None:
        return self.series.get((venue, coin))

    def coins(self, venue: str) -> list[str]:
        return sorted(coin for (v, coin) in self.series if v == venue)

    def reference(self, coin: str) -> ReplaySeries | None:
        """The series that drives a coin's price on every venue (Binance first, it has the most coins)."""
        return self.series.get(("binance", coin)) or self.series.get(("okx", coin))


EMPTY_HISTORY = History(series={})


def _snap(ms: int, interval_hours: int) -> int:
    step = interval_hours * HOUR_MS
    return round(ms / step) * step


def _load_funding_95(folder: Path) -> dict[tuple[str, str], ReplaySeries]:
    result: dict[tuple[str, str], ReplaySeries] = {}
    for path in sorted(folder.glob("*USDT_funding.json")):
        rows = sorted(json.loads(path.read_text(encoding="utf-8")), key=lambda row: int(row["fundingTime"]))
        if len(rows) < 3:
            continue
        gaps = sorted(int(b["fundingTime"]) - int(a["fundingTime"]) for a, b in itertools.pairwise(rows))
        interval = max(1, round(gaps[len(gaps) // 2] / HOUR_MS))
        times: list[int] = []
        rates: list[float] = []
        prices: list[float] = []
        for row in rows:
            snapped = _snap(int(row["fundingTime"]), interval)
            if times and snapped <= times[-1]:
                continue
            times.append(snapped)
            rates.append(float(row["fundingRate"]))
            prices.append(float(row["markPrice"]))
        coin = path.name.removesuffix("USDT_funding.json")
        result[("binance", coin)] = ReplaySeries(tuple(times), tuple(rates), tuple(prices), None, interval)
    return result


def _london_to_utc_ms(text: str) -> int:
    local = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=_LONDON)
    return _snap(int(local.timestamp() * 1000), 8)


def _load_btc_eth(path: Path) -> dict[tuple[str, str], ReplaySeries]:
    perp: dict[tuple[str, str], dict[int, tuple[float, float]]] = {}
    spot: dict[tuple[str, str], dict[int, float]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            venue, coin = row["exchange"], _CSV_COINS.get(row["crypto"])
            if venue not in ("binance", "okx") or coin is None:
                continue
            when = _london_to_utc_ms(row["time"])
            if row["contract"] == "spot":
                spot.setdefault((venue, coin), {})[when] = float(row["close"])
            elif row["pair"] == f"{coin}USDT" and row["funding rate"]:
                perp.setdefault((venue, coin), {})[when] = (float(row["close"]), float(row["funding rate"]))
    result: dict[tuple[str, str], ReplaySeries] = {}
    for key, points in perp.items():
        times = sorted(points)
        spot_points = spot.get(key, {})
        spot_prices = tuple(spot_points.get(t, points[t][0]) for t in times)
        result[key] = ReplaySeries(
            tuple(times),
            tuple(points[t][1] for t in times),
            tuple(points[t][0] for t in times),
            spot_prices,
            8,
        )
    return result


@lru_cache(maxsize=4)
def load_history(folder: Path | None) -> History:
    """Read every known source under ``folder``; a missing folder or file gives an empty history."""
    if folder is None or not folder.is_dir():
        return EMPTY_HISTORY
    series: dict[tuple[str, str], ReplaySeries] = {}
    funding_dir = folder / FUNDING_95_DIR
    if funding_dir.is_dir():
        series.update(_load_funding_95(funding_dir))
    csv_path = folder / BTC_ETH_CSV
    if csv_path.is_file():
        series.update(_load_btc_eth(csv_path))
    log.info("replay history loaded", extra={"folder": str(folder), "series": len(series)})
    return History(series=series)
