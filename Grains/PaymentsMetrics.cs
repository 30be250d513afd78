using System.Diagnostics.Metrics;

namespace FinCore.Grains;

/// <summary>The payment instruments (OpenTelemetry <see cref="Meter"/> "FinCore.Payments").</summary>
public static class PaymentsMetrics
{
    public static readonly Meter Meter = new("FinCore.Payments");
    private static readonly Counter<long> DeadLetteredTotal = Meter.CreateCounter<long>("fincore.dead_letters.added", description: "Charges dead-lettered (alert)");
    private static readonly Counter<long> PspOutcomes = Meter.CreateCounter<long>("fincore.psp.outcomes", description: "PSP call outcomes by kind");
    private static readonly Histogram<double> PspLatency = Meter.CreateHistogram<double>("fincore.psp.duration", "ms", "PSP call latency");
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("fincore.psp.retries", description: "PSP attempts scheduled after a retryable outcome");
    private static readonly Counter<long> WebhookDeliveries = Meter.CreateCounter<long>("fincore.webhook.deliveries", description: "Tenant webhook delivery attempts by result");
    private static readonly Counter<long> LedgerOperations = Meter.CreateCounter<long>("fincore.ledger.operations", description: "Ledger operations written (a transfer's debit or credit, a funding, a refund)");
    private static readonly Histogram<long> LedgerBatchSize = Meter.CreateHistogram<long>("fincore.ledger.batch_size", description: "Ledger operations of one account written in one transaction");
    private static long s_deadLetters;

    static PaymentsMetrics() => Meter.CreateObservableGauge("fincore.dead_letters.size", () => Interlocked.Read(ref s_deadLetters), description: "Charges waiting in the dead-letter set");

    public static void DeadLettered() => DeadLetteredTotal.Add(1);

    public static void SetDeadLetters(int size) => Interlocked.Exchange(ref s_deadLetters, size);

    public static void PspCall(string outcome, double ms)
    {
        PspOutcomes.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        PspLatency.Record(ms, new KeyValuePair<string, object?>("outcome", outcome));
    }

    public static void Retry() => Retries.Add(1);

    public static void LedgerBatch(int operations)
    {
        LedgerOperations.Add(operations);
        LedgerBatchSize.Record(operations);
    }

    /// <summary>Publishes the number of charges waiting out a PSP outage on this silo (<see cref="Psp.PspOutage"/>).</summary>
    public static void ObserveOutageWaiting(Func<int> waiting) =>
        Meter.CreateObservableGauge("fincore.psp.outage_waiting", waiting, description: "Charges waiting on this silo for the PSP's circuit to close");

    public static void WebhookDelivery(string result) => WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("result", result));
}
