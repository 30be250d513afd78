namespace FinCore.Runtime;

/// <summary>No silo could take the call before its deadline, or the owning silo was lost after the request was
/// sent so it is unknown whether the call ran. Safe to retry for idempotent operations.</summary>
public sealed class SiloUnavailableException : Exception
{
    public SiloUnavailableException() : base("No silo is available for the call.") { }
    public SiloUnavailableException(string message) : base(message) { }
    public SiloUnavailableException(string message, Exception inner) : base(message, inner) { }
}
