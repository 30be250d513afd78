namespace FinCore.Runtime.Transport;

/// <summary>The connection to a silo failed. <see cref="MaybeDelivered"/> tells whether the request may have run.</summary>
internal sealed class TransportException(string message, bool maybeDelivered, Exception? inner = null)
    : Exception(message, inner)
{
    public bool MaybeDelivered { get; } = maybeDelivered;
}
