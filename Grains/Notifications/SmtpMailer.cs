using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace FinCore.Grains.Notifications;

/// <summary>Sends emails over SMTP with MailKit, one connection per batch of messages.</summary>
public sealed class SmtpMailer(IOptions<NotificationOptions> options)
{
    private readonly NotificationOptions _options = options.Value;

    /// <summary>A connected, authenticated client for a batch of sends; dispose it when done.</summary>
    public async Task<SmtpClient> ConnectAsync(CancellationToken ct)
    {
        var url = new Uri(_options.SmtpUrl ?? throw new InvalidOperationException("FINCORE_SMTP_URL is not set"));
        var tls = url.Scheme switch
        {
            "smtps" => SecureSocketOptions.SslOnConnect,
            "smtp" => SecureSocketOptions.StartTlsWhenAvailable,
            _ => throw new InvalidOperationException($"FINCORE_SMTP_URL must be smtp:// or smtps://, not {url.Scheme}://"),
        };
        var port = url.IsDefaultPort || url.Port <= 0 ? (url.Scheme == "smtps" ? 465 : 25) : url.Port;
        var client = new SmtpClient { Timeout = (int)_options.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(url.Host, port, tls, ct);
            if (!string.IsNullOrEmpty(url.UserInfo))
            {
                var parts = url.UserInfo.Split(':', 2);
                await client.AuthenticateAsync(Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "", ct);
            }

            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>One email. Its Message-ID is the notification's, so the rare duplicate (a silo that died after the server
    /// took the message and before its outcome was written) is recognisable as one; <c>X-FinCore-Occurred-At</c> says
    /// when its event happened (ISO 8601, UTC), so a receiver can tell how long it took.</summary>
    public static MimeMessage Message(string from, string notificationId, string toName, string toAddress, RenderedEmail email, DateTime? occurredAt)
    {
        var message = new MimeMessage { Subject = email.Subject, MessageId = notificationId + "@fincore" };
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(new MailboxAddress(toName, toAddress));
        message.Headers.Add("X-FinCore-Notification", notificationId);
        if (occurredAt is { } at)
        {
            message.Headers.Add("X-FinCore-Occurred-At", at.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        }

        message.Body = new BodyBuilder { TextBody = email.Text, HtmlBody = email.Html }.ToMessageBody();
        return message;
    }
}
