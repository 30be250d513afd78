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
}
