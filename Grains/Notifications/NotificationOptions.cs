namespace FinCore.Grains.Notifications;

/// <summary>How notifications are sent (configuration section <c>Notifications</c>; the server from <c>FINCORE_SMTP_URL</c>).</summary>
public sealed class NotificationOptions
{
    /// <summary>The SMTP server: <c>smtp://[user:password@]host[:port]</c> (STARTTLS when the server offers it, port 25 by
    /// default) or <c>smtps://…</c> (TLS from the start, port 465). Unset: no email is made or sent.</summary>
    public string? SmtpUrl { get; set; }

    /// <summary>The sender of every email. Default <c>FinCore &lt;notifications@fincore.local&gt;</c> (<c>FINCORE_MAIL_FROM</c>).</summary>
    public string From { get; set; } = "FinCore <notifications@fincore.local>";

    /// <summary>The first retry's ceiling; each failed attempt doubles it, up to <see cref="MaxDelay"/> (full jitter). Default 1 s.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts of one notification. Default 5 minutes.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A notification not sent this long after it was made is given up on (<c>failed</c>). Default 24 h.</summary>
    public TimeSpan GiveUpAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Connecting to the server and each message's send time out after this. Default 10 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>SMTP connections a tenant's notifier sends over at once, each one message at a time. Default 8.</summary>
    public int Concurrency { get; set; } = 8;

    public bool EmailEnabled => !string.IsNullOrWhiteSpace(SmtpUrl);

    /// <summary>The delay after <paramref name="attempts"/> failed attempts, full jitter.</summary>
    public TimeSpan Backoff(int attempts) => Grains.Backoff.FullJitter(BaseDelay, MaxDelay, attempts - 1);
}
