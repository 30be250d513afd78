namespace FinCore.Runtime;

/// <summary>A grain threw an exception whose type the calling process cannot recreate; carries its type and message.</summary>
public sealed class GrainCallException : Exception
{
    public GrainCallException() { }
    public GrainCallException(string message) : base(message) { }
    public GrainCallException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception for a remote exception of type <paramref name="remoteType"/>.</summary>
    public GrainCallException(string remoteType, string message, string? remoteStackTrace) : base(message)
    {
        RemoteType = remoteType;
        RemoteStackTrace = remoteStackTrace;
    }

    /// <summary>Full name of the exception type thrown in the grain.</summary>
    public string? RemoteType { get; }

    /// <summary>The stack trace in the silo that ran the grain.</summary>
    public string? RemoteStackTrace { get; }
}
