namespace FinCore.Grains.Psp;

/// <summary>A retry grain's progress, stored only once an attempt has failed (a charge the PSP settles at the first
/// attempt stores nothing here).</summary>
[GenerateSerializer, Alias("fincore.psp-retry-state")]
public sealed class PspRetryState
{
    [Id(0)]
    public PspPayment? Payment { get; set; }

    [Id(1)]
    public int Attempts { get; set; }

    [Id(2)]
    public DateTime FirstAttemptAt { get; set; }

    /// <summary>The PSP answered "pending": the result comes by callback, or is asked for later.</summary>
    [Id(3)]
    public bool Pending { get; set; }

    /// <summary>Retries were exhausted and the charge dead-lettered: nothing more until the charge hands it over again.</summary>
    [Id(4)]
    public bool Done { get; set; }

    /// <summary>The W3C trace context of the request that began processing: attempts (reminder turns) join its trace.</summary>
    [Id(5)]
    public string? TraceParent { get; set; }

    [Id(6)]
    public string? LastError { get; set; }
}
