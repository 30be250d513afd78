namespace FinCore.Grains.Webhooks;

/// <summary>Tenant webhook delivery (configuration section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    /// <summary>One delivery may take this long. Default 5 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Backoff after a failed delivery: random in [0, min(MaxDelay, BaseDelay·2ⁿ)]. Default 1 s.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Backoff cap. Default 5 minutes.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Deliveries in flight at most per tenant (different charges; a charge's own events go one at a time, in
    /// order). Default 16: up to ~300 events/s to an endpoint that answers in 50 ms.</summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>An event is retried for this long after its first failure, then given up on (the delivery log says
    /// so). Default 24 h.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);
}
