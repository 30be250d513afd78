using System.Diagnostics;

namespace FinCore.Grains;

/// <summary>The payment spans (<see cref="ActivitySource"/> "FinCore.Payments"): PSP attempts and PSP calls.</summary>
public static class PaymentsTelemetry
{
    public static readonly ActivitySource Source = new("FinCore.Payments");

    /// <summary>The span of one PSP attempt for a charge, in the trace of the request that created it.</summary>
    public static Activity? StartAttempt(string chargeId, int attempt, string? traceParent) =>
        Source.StartActivity("psp attempt", ActivityKind.Internal, traceParent)?.SetTag("fincore.charge_id", chargeId).SetTag("fincore.attempt", attempt);
}
