"""The execution service layer (DESIGN, "Execution protocol"): opens, closes, rebalances and reconciles funding
hedges on the venues, recording every intent before it is sent.

It may import core, venues, storage and notify, never dagster: the Dagster ops and sensors are thin callers.
Entry points (all async, one venue client each, built by the caller):

    open_hedge.open_hedge(deps, client, request, capital)      -> OpenOutcome
    close_hedge.close_hedge(deps, client, position_id, reason) -> CloseOutcome
    rebalance.rebalance_hedge(deps, client, position_id)       -> RebalanceOutcome
    reduce_leverage.reduce_leverage(deps, client, position_id) -> ReduceOutcome
    funding_income.collect_funding(deps, client, position_id)  -> FundingCollected
    reconcile.reconcile_venue(deps, client)                    -> ReconcileReport
    signals.funding_opportunities(deps, now)                   -> list[Opportunity]     (for the sensor)
    monitor.assess_positions(deps, client)                     -> list[PositionAction]  (for the sensor)
"""
