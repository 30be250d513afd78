using System.ComponentModel.DataAnnotations;

namespace FinCore.Runtime.Transport;

/// <summary>Grain calls between processes.</summary>
public sealed class MessagingOptions
{
    /// <summary>A call not answered by then fails with <see cref="TimeoutException"/>. Default 30 s.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Requests in flight per connection; more wait (client) or stay unread (server). Default 10,000.</summary>
    [Range(1, 1_000_000)]
    public int MaxInFlightPerConnection { get; set; } = 10_000;

    /// <summary>How long to wait for a TCP connect. Default 2 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times a call may be forwarded between silos whose views disagree. Default 2.</summary>
    [Range(0, 8)]
    public int MaxForwardHops { get; set; } = 2;
}
