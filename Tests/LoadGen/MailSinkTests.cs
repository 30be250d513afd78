using FinCore.Grains.Notifications;
using FinCore.LoadGen.Workloads;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace FinCore.Tests.LoadGen;

/// <summary>LoadGen's mail sink (<c>--mail-sink</c>) as FinCore's silos meet it: a real SMTP server, spoken to over
/// TCP by MailKit with the silos' own messages.</summary>
public sealed class MailSinkTests
{
    [Fact]
    public async Task The_mail_sink_accepts_over_SMTP_counts_each_notification_once_and_measures_from_its_event()
    {
        var port = FreePort.Next();
        await using var sink = MailSink.Start($"127.0.0.1:{port}");
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.None);
        var email = NotificationTemplates.Render("transfer.sent", "en", "Ana", 500, "BRL", "tr_1", DateTime.UtcNow);
        var occurred = DateTime.UtcNow.AddSeconds(-2);
        foreach (var id in new[] { "ntf_a", "ntf_b", "ntf_a" })
        {
            await client.SendAsync(SmtpMailer.Message("FinCore <n@fincore.local>", id, "Ana", "ana@example.com", email, occurred));
        }

        await client.DisconnectAsync(quit: true);
        var arrivals = sink.Arrivals;
        Assert.Equal(3, arrivals.Received);
        Assert.Equal(2, arrivals.Unique);
        Assert.Equal(1, arrivals.Duplicates);
        Assert.Equal(2, arrivals.Lag.TotalCount);
        Assert.InRange(arrivals.Lag.Min, 2_000_000, 60_000_000); // µs: from the event two seconds ago
        Assert.Throws<FormatException>(() => MailSink.Start("nowhere"));
    }
}
