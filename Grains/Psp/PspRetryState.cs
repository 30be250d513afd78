namespace FinCore.Grains.Psp;

public sealed class PspRetryState
{
    public PspPayment? Payment { get; set; }
    public int Attempts { get; set; }
    public DateTime FirstAttemptAt { get; set; }

    /// <summary>The PSP answered "pending": the result comes by callback, or is asked for later.</summary>
    public bool Pending { get; set; }

    public bool Done { get; set; }

    /// <summary>The W3C trace context of the request that began processing: attempts (reminder turns) join its trace.</summary>
    public string? TraceParent { get; set; }
    public string? LastError { get; set; }
}
