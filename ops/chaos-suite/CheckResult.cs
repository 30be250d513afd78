namespace FinCore.Chaos;

/// <summary>What the invariant checker found after one scenario settled. Every violation count must be 0 (see <see cref="Passed"/>).</summary>
internal sealed record CheckResult
{
    public required string Scenario { get; init; }

    public required string Faults { get; init; }

    public required double Rate { get; init; }

    /// <summary>What <see cref="Rate"/> counts per second: charges created, or (a scenario with its own mix) requests.</summary>
    public string RateOf { get; init; } = "charges";

    public required double LoadSeconds { get; init; }

    /// <summary>Requests LoadGen's schedule called for (creates and reads).</summary>
    public long Scheduled { get; init; }

    /// <summary>Requests LoadGen sent; the rest it dropped, unsent after 10 s behind schedule (the cluster was saturated).</summary>
    public long Sent { get; init; }

    public long Acknowledged { get; init; }

    public long Succeeded { get; init; }

    public long Failed { get; init; }

    public long Canceled { get; init; }

    public long DeadLettered { get; init; }

    /// <summary>Not yet terminal when the settle deadline passed (60 s after the last fault ended).</summary>
    public long Stuck { get; init; }

    /// <summary>Acknowledged with 202 but not in the database.</summary>
    public long Lost { get; init; }

    /// <summary>A PSP key captured more than once.</summary>
    public long DoubleCaptured { get; init; }

    /// <summary>Succeeded without a capture in the PSP ledger, or failed/canceled although the PSP captured it.</summary>
    public long LedgerMismatches { get; init; }

    public long BackwardsTransitions { get; init; }

    public long IdempotencyViolations { get; init; }

    public long CrossTenantReads { get; init; }

    public long AuditChainBreaks { get; init; }

    /// <summary>Transfers LoadGen's <c>transfer</c> operations made that succeeded, across the tenants checked.</summary>
    public long Transfers { get; init; }

    /// <summary>Refunds LoadGen's <c>refund</c> operations made that succeeded, across the tenants checked.</summary>
    public long Refunds { get; init; }

    /// <summary>Money conservation broken: a ledger transaction not summing to zero, a balance below zero or not the sum of
    /// its entries, a tenant whose balances are not what came in minus what went back and what is in transit, a transfer
    /// half-applied (still pending after the settle, or its entries not its status), a refund still pending, above its
    /// charge, without its entries, or not what the PSP refunded.</summary>
    public long MoneyViolations { get; init; }

    /// <summary>5xx responses other than 503 (LoadGen and the probes).</summary>
    public long Unexpected5xx { get; init; }

    public long Responses503 { get; init; }

    /// <summary>Requests that got no response (connection refused while the gateway restarted): not acknowledged, so not owed.</summary>
    public long TransportErrors { get; init; }

    public double SettledSecondsAfterLastFault { get; init; }

    public long IdempotencyChecks { get; init; }

    public long CrossTenantChecks { get; init; }

    public List<string> Notes { get; init; } = [];

    public bool Passed => Stuck == 0 && Lost == 0 && DoubleCaptured == 0 && LedgerMismatches == 0 && BackwardsTransitions == 0
        && IdempotencyViolations == 0 && CrossTenantReads == 0 && AuditChainBreaks == 0 && Unexpected5xx == 0 && MoneyViolations == 0;
}
