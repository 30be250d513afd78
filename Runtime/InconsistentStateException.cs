namespace FinCore.Runtime;

/// <summary>A state write was refused because the stored version is newer than the one this activation read:
/// another activation of the same grain wrote since. The runtime deactivates the stale activation.</summary>
public sealed class InconsistentStateException : Exception
{
    public InconsistentStateException() : base("The stored grain state has a newer version (ETag mismatch).") { }
    public InconsistentStateException(string message) : base(message) { }
    public InconsistentStateException(string message, Exception inner) : base(message, inner) { }
}
