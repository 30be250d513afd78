namespace FinCore.Grains;

/// <summary>Charges in the last minute for one customer and one payment method.</summary>
[GenerateSerializer, Immutable, Alias("fincore.velocity-counts")]
public sealed record VelocityCounts(int Customer, int PaymentMethod);

/// <summary>Per-tenant sliding-window counters for the velocity risk rules (held in memory: a failover resets
/// the window, which errs towards allowing).</summary>
[Alias("fincore.velocity-grain")]
public interface IVelocityGrain : IGrainWithStringKey
{
    [Alias("record")]
    Task<VelocityCounts> Record(string chargeId, string? customer, string paymentMethod);

    /// <summary>Takes a charge's count back out of the windows (a create that turned out to be the replay of one stored
    /// before: that one was counted when it was made). Nothing when the charge is not counted.</summary>
    [Alias("forget")]
    Task Forget(string chargeId);
}
