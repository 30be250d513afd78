namespace FinCore.Grains;

/// <summary>Which channels a customer receives notifications on (<c>PUT /v1/customers/{id}/notification-preferences</c>).
/// Both on unless the tenant turns them off.</summary>
[GenerateSerializer, Immutable, Alias("fincore.notification-preferences")]
public sealed record NotificationPreferences([property: Id(0)] bool Email, [property: Id(1)] bool Push)
{
    public static readonly NotificationPreferences Default = new(true, true);
}

/// <summary>One tenant's notifier: it turns the tenant's sealed events into notifications (one per recipient and
/// event) and sends the email ones over SMTP, retried with backoff, each attempt in the delivery log.</summary>
[Alias("fincore.notification-grain")]
public interface INotificationGrain : IGrainWithStringKey
{
    /// <summary>New events may be sealed: turn them into notifications and send what is due. Idempotent.</summary>
    [Alias("kick")]
    Task Kick();
}

/// <summary>How push notifications reach the customers' streams: a push notification is <c>queued</c> when made and
/// <c>delivered</c> once a stream of its customer has sent it; the notifier tells every gateway on this PostgreSQL
/// channel, with the payload <c>"&lt;tenant&gt; &lt;customer&gt; &lt;seq&gt;"</c> (ids only), when it commits.</summary>
public static class PushNotifications
{
    public const string Channel = "fincore_push";

    public const string Queued = "queued";
}
