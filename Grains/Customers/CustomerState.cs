using FinCore.Persistence;

namespace FinCore.Grains.Customers;

[GenerateSerializer, Alias("fincore.customer-state")]
public sealed class CustomerState : OutboxState
{
    /// <summary>The customer without its personal data (name, email and document empty, phone null): that is in
    /// <see cref="Sealed"/>. A state from before encryption has it here in plaintext and no <see cref="Sealed"/>.</summary>
    [Id(0)]
    public Customer? Customer { get; set; }

    /// <summary>The create request's fingerprint: a reuse of its Idempotency-Key with another body is refused.</summary>
    [Id(1)]
    public string? Fingerprint { get; set; }

    /// <summary>The channels the customer is notified on (also in the <c>customers</c> row, which the notifier reads).</summary>
    [Id(2)]
    public NotificationPreferences Preferences { get; set; } = NotificationPreferences.Default;

    /// <summary>The personal data, encrypted (<see cref="FinCore.Privacy.PersonalDataProtector"/>); the same bytes as the row's.</summary>
    [Id(3)]
    public byte[]? Sealed { get; set; }

    /// <summary>When the customer's personal data was erased (null: it was not).</summary>
    [Id(4)]
    public DateTime? ErasedAt { get; set; }
}
