using System.Collections.Concurrent;

namespace FinCore.PspSandbox;

/// <summary>What the PSP has decided per idempotency key (payments and refunds), and how often a key arrived again
/// after it was decided.</summary>
internal sealed class Ledger
{
    private readonly ConcurrentDictionary<string, Payment> _payments = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Refund> _refunds = new(StringComparer.Ordinal);

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
        /// <summary>What refunds have given back of it (never above <see cref="Amount"/>).</summary>
        public long Refunded;
    }

    public sealed class Refund
    {
        public required string Key { get; init; }
        public required string Reference { get; init; }
        public required string Payment { get; init; }
        public required long Amount { get; init; }
        public required string Status { get; init; }
        public string? FailureCode { get; init; }
        public DateTime At { get; } = DateTime.UtcNow;
        public int Duplicates;
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

    public IEnumerable<Refund> Refunds => _refunds.Values;

    public Refund? FindRefund(string key) => _refunds.TryGetValue(key, out var r) ? r : null;

    /// <summary>The refund for this key: the first arrival decides it (refunded when the payment is captured, what is
    /// left of it covers the amount and <paramref name="decline"/> says no), later ones get it back.</summary>
    public (Refund Refund, bool Repeat) RefundOnce(string key, string paymentKey, long amount, Func<bool> decline)
    {
        // Decided under one lock: a factory of GetOrAdd may run twice for one key, and a refund must be decided once.
        lock (_refunds)
        {
            if (_refunds.TryGetValue(key, out var known))
            {
                Interlocked.Increment(ref known.Duplicates);
                return (known, true);
            }

            var refund = Decide(key, paymentKey, amount, decline);
            _refunds[key] = refund;
            return (refund, false);
        }
    }

    private Refund Decide(string key, string paymentKey, long amount, Func<bool> decline)
    {
        var reference = "psr_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
        Refund Failed(string code) => new() { Key = key, Reference = reference, Payment = paymentKey, Amount = amount, Status = "failed", FailureCode = code };
        if (Find(paymentKey) is not { } payment)
        {
            return Failed("payment_not_found");
        }

        lock (payment)
        {
            if (payment.Status != "captured")
            {
                return Failed("payment_not_captured");
            }

            if (payment.Refunded + amount > payment.Amount)
            {
                return Failed("amount_exceeds_capture");
            }

            if (decline())
            {
                return Failed("refund_declined");
            }

            payment.Refunded += amount;
            return new Refund { Key = key, Reference = reference, Payment = paymentKey, Amount = amount, Status = "refunded" };
        }
    }
}
