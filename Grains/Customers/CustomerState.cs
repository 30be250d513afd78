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

    /// <summary>The channels the customer is notified on (also in the <c>customers</c> row, which the notifier reads).</summary>
    [Id(2)]
    public NotificationPreferences Preferences { get; set; } = NotificationPreferences.Default;
}
