using System.Diagnostics;

namespace FinCore.Grains;

/// <summary>The payment spans (<see cref="ActivitySource"/> "FinCore.Payments"): PSP attempts and PSP calls.</summary>
public static class PaymentsTelemetry
{
    public static readonly ActivitySource Source = new("FinCore.Payments");
}
