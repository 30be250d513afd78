namespace FinCore.Grains;

/// <summary>Delivers one tenant's events to its webhook endpoint, in order, at least once, retried with backoff by
/// a durable reminder. Its own grain, so a slow or dead endpoint never holds up a charge.</summary>
[Alias("fincore.webhook-grain")]
public interface IWebhookGrain : IGrainWithStringKey
{
    /// <summary>New events may be there: deliver them (now, or when the current backoff ends). Idempotent.</summary>
    [Alias("kick")]
    Task Kick();
}
