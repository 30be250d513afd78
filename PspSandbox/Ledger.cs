using System.Collections.Concurrent;

namespace FinCore.PspSandbox;

/// <summary>What the PSP has decided per idempotency key, and how often a key arrived again after it was decided.</summary>
internal sealed class Ledger
{
    private readonly ConcurrentDictionary<string, Payment> _payments = new(StringComparer.Ordinal);

    public sealed class Payment
    {
        public required string Key { get; init; }
        public required string Reference { get; init; }
        public required long Amount { get; init; }
        public required string Currency { get; init; }
        public string Status { get; set; } = "pending";
        public string? DeclineCode { get; set; }
        public DateTime? CapturedAt { get; set; }
        public int Duplicates;
        public int Captures;
    }

    /// <summary>The payment for this key: the first arrival creates it (made by <paramref name="create"/>), later ones get it back.</summary>
    public (Payment Payment, bool Repeat) GetOrCreate(string key, Func<Payment> create)
    {
        var created = false;
        var payment = _payments.GetOrAdd(key, _ =>
        {
            created = true;
            return create();
        });
        if (!created)
        {
            Interlocked.Increment(ref payment.Duplicates);
        }

        return (payment, !created);
    }

    public Payment? Find(string key) => _payments.TryGetValue(key, out var p) ? p : null;

    public void Capture(Payment p)
    {
        lock (p)
        {
            if (p.Status == "captured")
            {
                return;
            }

            p.Status = "captured";
            p.CapturedAt = DateTime.UtcNow;
            p.Captures++;
        }
    }

    public void Decline(Payment p, string code)
    {
        lock (p)
        {
            if (p.Status == "pending")
            {
                p.Status = "declined";
                p.DeclineCode = code;
            }
        }
    }

    public IEnumerable<Payment> All => _payments.Values;
}
