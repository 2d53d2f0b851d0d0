"""The crash harness's own logic, without a venue: the invariant checks on hand-made venue and record views, the
fixed suite selection, the fuzzer's schedules as a function of their seed, and the forked child's fates."""

from __future__ import annotations

import os
from decimal import Decimal

from arbx_pipelines.bench.crash_cases import CaseResult
from arbx_pipelines.bench.crash_checks import Start, VenueView, check
from arbx_pipelines.bench.crash_child import FINISHED, HUNG, KILLED, RAISED, ChildResult, run_forked
from arbx_pipelines.bench.crash_fuzz import FAULT_KINDS, make_schedule
from arbx_pipelines.bench.crash_setups import NEGATIVE_FUNDING, case_setup
from arbx_pipelines.bench.crash_sweep import Figures, full_cases, inapplicable_cases, registry, suite_kills
from arbx_pipelines.bench.crash_world import JOBS, PERP, SPOT, Lots
from arbx_pipelines.execution.crashpoints import ALL_POINTS, crash_point
from arbx_pipelines.storage.venue_audit import AuditFill, AuditOrder, AuditPosition, RecordSnapshot

D = Decimal
LOTS = Lots(D(1), D(100))


def venue_order(cid: str, symbol: str, side: str, filled: str) -> dict[str, object]:
    return {
        "id": cid,
        "client_order_id": cid,
        "symbol": symbol,
        "side": side,
        "amount": D(filled),
        "filled": D(filled),
        "status": "closed",
    }


def hedged_venue(spot: str = "899", perp: str = "-900") -> VenueView:
    orders = (venue_order("a-spot", SPOT, "buy", "900"), venue_order("a-perp", PERP, "sell", "900"))
    trades = (
        {"id": "1", "order": "a-spot", "symbol": SPOT, "side": "buy", "amount": D(900)},
        {"id": "2", "order": "a-perp", "symbol": PERP, "side": "sell", "amount": D(900)},
    )
    return VenueView(orders, trades, D(spot), D(perp))


def hedged_records(spot: str = "899", status: str = "open") -> RecordSnapshot:
    orders = (
        AuditOrder("a-spot", "spot", SPOT, "buy", D(900), D(900), "closed"),
        AuditOrder("a-perp", "perp", PERP, "sell", D(900), D(900), "closed"),
    )
    fills = (
        AuditFill("spot:1", "a-spot", "spot", SPOT, "buy", D(900)),
        AuditFill("swap:2", "a-perp", "perp", PERP, "sell", D(900)),
    )
    return RecordSnapshot((AuditPosition(1, status, "short_perp", D(spot), D(900)),), (), orders, fills)


def test_records_equal_to_a_hedged_venue_pass() -> None:
    assert check(hedged_venue(), hedged_records(), LOTS).ok


def test_a_spot_leg_bought_twice_is_naked_and_unrecorded() -> None:
    view = hedged_venue(spot="1799")
    view = VenueView((*view.orders, venue_order("a-spot-2", SPOT, "buy", "900")), view.trades, view.spot, view.perp)
    verdict = check(view, hedged_records(), LOTS)
    assert "1799" in verdict.naked
    assert any("a-spot-2" in m for m in verdict.mismatches)
    assert any("recorded spot 899" in m for m in verdict.mismatches)


def test_a_client_order_id_twice_on_the_venue_is_a_duplicate() -> None:
    view = hedged_venue()
    view = VenueView((*view.orders, view.orders[1] | {"id": "other"}), view.trades, view.spot, view.perp)
    assert check(view, hedged_records(), LOTS).duplicate_orders == ["a-perp"]


def test_a_fill_missing_from_the_records_and_a_position_left_opening_are_mismatches() -> None:
    records = hedged_records(status="opening")
    records = RecordSnapshot(records.positions, (), records.orders, records.fills[:1])
    mismatches = check(hedged_venue(), records, LOTS).mismatches
    assert any("venue trade 2" in m for m in mismatches)
    assert any("left opening" in m for m in mismatches)


def test_a_flat_venue_with_an_open_record_is_a_mismatch_and_dust_below_a_lot_is_flat() -> None:
    flat = VenueView(hedged_venue().orders, hedged_venue().trades, D("0.9"), D(0))
    verdict = check(flat, hedged_records(), LOTS)
    assert not verdict.naked
    assert any("venue is flat" in m for m in verdict.mismatches)


def test_one_leg_alone_is_naked() -> None:
    assert check(hedged_venue(perp="0"), hedged_records(), LOTS).naked


def test_the_suite_kills_each_reached_point_once_per_venue_and_each_job_s_point_somewhere() -> None:
    shared = ("lock.acquired", "order.create_sent", "fills.committed")
    reach = {(v, j): shared + ("intent.committed",) * (j == "open") for v in ("binance", "okx", "bitget") for j in JOBS}
    reach[("okx", "reduce_leverage")] += ("reduce.transfer_sent",)
    kills = suite_kills(reach, ("binance", "okx", "bitget"))
    assert kills == suite_kills(reach, ("binance", "okx", "bitget"))
    assert len(kills) == len(set(kills))
    for venue in ("binance", "okx", "bitget"):
        killed = [p for v, _, p in kills if v == venue]
        assert set(killed) >= {*shared, "intent.committed"}
    assert ("okx", "reduce_leverage", "reduce.transfer_sent") in kills
    pairs = {(j, p) for (_, j), points in reach.items() for p in points}
    assert {(j, p) for _, j, p in kills} == pairs
    # each venue's 4 or 5 names once, plus the one job of each shared name that no venue's turn picked
    assert len(kills) == 4 + 5 + 4 + len(shared)
    for name in shared:  # the venues take turns over the jobs sharing a point
        assert len({j for v, j, p in kills if p == name}) == len(JOBS)


def test_a_schedule_is_a_function_of_its_seed() -> None:
    points = registry()
    schedules = [make_schedule(seed, ("binance", "okx", "bitget"), points, redis=True) for seed in range(300)]
    assert schedules == [make_schedule(seed, ("binance", "okx", "bitget"), points, redis=True) for seed in range(300)]
    assert len({s.describe() for s in schedules}) > 250
    assert {r["kind"] for s in schedules for r in s.venue_faults} == set(FAULT_KINDS)
    assert {s.job for s in schedules} == set(JOBS) and {s.venue for s in schedules} == {"binance", "okx", "bitget"}
    assert {s.state for s in schedules} == {"database", "redis"}
    for feature in ("db_fails_from", "state_works_for", "price_jump", "venue_away", "kill_at"):
        assert any(getattr(s, feature) is not None for s in schedules), feature
    kills = [s.kill_at.partition("#")[0] for s in schedules if s.kill_at]
    assert set(kills) <= ALL_POINTS


def test_the_child_is_killed_at_its_crash_point_and_only_there() -> None:
    def work() -> str:
        crash_point("order.create_sent")
        crash_point("order.create_sent")
        return "passed"

    assert run_forked(work, crash_at="order.create_sent#2", timeout_s=10).outcome == KILLED
    assert run_forked(work, crash_at="order.create_sent#3", timeout_s=10) == run_forked(
        work, crash_at=None, timeout_s=10
    )
    clean = run_forked(work, crash_at=None, timeout_s=10)
    assert (clean.outcome, clean.passed) == (FINISHED, ("order.create_sent", "order.create_sent"))
    assert "ARBX_CRASH_AT" not in os.environ


def test_an_exception_or_a_hang_in_the_child_is_reported() -> None:
    def fails() -> str:
        raise RuntimeError("venue gone")

    def hangs() -> str:
        os.read(os.pipe()[0], 1)  # blocks for ever: only the alarm ends it
        return "never"

    def fails_after_sending() -> str:
        crash_point("order.marked_sent")
        raise RuntimeError("database gone")

    raised = run_forked(fails, crash_at=None, timeout_s=10)
    assert raised.outcome == RAISED and "RuntimeError: venue gone" in raised.detail
    assert "fails" in raised.detail and not raised.escaped  # where it came from; before any order: not escaped
    late = run_forked(fails_after_sending, crash_at=None, timeout_s=10)
    assert late.escaped and late.passed == ("order.marked_sent",)
    assert run_forked(hangs, crash_at=None, timeout_s=1).outcome == HUNG


def test_a_drifted_start_may_keep_its_gap_untouched_but_never_widen_it() -> None:
    """A rebalance starts from a hand-made drift: killed before it changed anything, venue and records stay as found
    (the hand trade not yet booked); a gap wider than the start's is naked."""
    start = Start(D("599"), D("-900"), hedged_records().positions)
    untouched = hedged_venue(spot="599")
    verdict = check(untouched, hedged_records(), LOTS, start)
    assert verdict.ok, verdict.summary()
    assert not check(untouched, hedged_records(), LOTS).ok  # from a hedged start the same venue is naked
    wider = hedged_venue(spot="499")
    assert check(wider, hedged_records(), LOTS, start).naked


def test_an_order_reconcile_left_unfinished_is_a_mismatch() -> None:
    records = hedged_records()
    waiting = AuditOrder("a-spot", "spot", SPOT, "buy", D(900), D(900), "fills_pending")
    records = RecordSnapshot(records.positions, (), (waiting, records.orders[1]), records.fills)
    assert "order a-spot left fills_pending after reconcile" in check(hedged_venue(), records, LOTS).mismatches


def test_the_matrix_leaves_out_transfers_on_okx_and_says_so() -> None:
    venues = ("binance", "okx", "bitget")
    cases = full_cases(venues, registry())
    transfers = {p for _, _, p in cases if ".transfer_" in p}
    assert transfers and not [c for c in cases if c[0] == "okx" and ".transfer_" in c[2]]
    assert {v for v, _, p in cases if p == "reduce.transfer_sent"} == {"binance", "bitget"}
    skipped = inapplicable_cases(venues, registry())
    assert len(skipped) == 9 and all(line.startswith("okx ") and "unified account" in line for line in skipped)
    assert len(cases) + len(skipped) == len(venues) * sum(len(points) for points in registry().values())


def test_points_beyond_the_clean_run_get_their_world_or_fault() -> None:
    assert case_setup("okx", "open", "order.cancel_sent").venue_faults[0]["kind"] == "rest_unfilled"
    assert case_setup("binance", "close", "order.cancel_answered").settings.order_timeout_s < 8
    assert case_setup("bitget", "close", "prepare.transfer_sent").variant == NEGATIVE_FUNDING
    assert case_setup("bitget", "open", "prepare.transfer_sent").variant == ""
    assert case_setup("binance", "close", "lock.acquired") == case_setup("binance", "open", "intent.committed")


def test_a_point_whose_first_hit_is_never_passed_is_a_hole_not_a_pass() -> None:
    figures = Figures()
    finished = ChildResult(FINISHED, "opened")
    figures.add(CaseResult("binance", "open", "order.cancel_sent#1", finished))
    figures.add(CaseResult("binance", "open", "order.create_sent#2", finished))
    figures.add(CaseResult("binance", "open", "order.create_sent#1", ChildResult(KILLED, "")))
    assert figures.never_reached == ["binance open order.cancel_sent"]
    assert figures.as_dict()["per_point"] == {"binance open order.create_sent": {"killed": 1, "converged": 1}}
