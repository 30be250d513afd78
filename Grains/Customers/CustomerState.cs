using FinCore.Persistence;

namespace FinCore.Grains.Customers;

[GenerateSerializer, Alias("fincore.customer-state")]
public sealed class CustomerState : OutboxState
{
    [Id(0)]
    public Customer? Customer { get; set; }

    /// <summary>The create request's fingerprint: a reuse of its Idempotency-Key with another body is refused.</summary>
    [Id(1)]
    public string? Fingerprint { get; set; }
}
