namespace FinCore.Runtime.Transport;

/// <summary>What a connection needs to know about its cluster and itself.</summary>
internal sealed record TransportSettings(
    string ClusterId,
    byte[] Secret,
    string LocalId,
    int MaxInFlightPerConnection,
    TimeSpan ConnectTimeout);
