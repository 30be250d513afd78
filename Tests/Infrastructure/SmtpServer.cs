using System.Diagnostics;
using System.Net.Sockets;
using MimeKit;

namespace FinCore.Tests.Infrastructure;

/// <summary>A real SMTP server for the tests: Debian's aiosmtpd, storing every message it accepts in a Maildir. It can be
/// stopped and started again on the same port (a mail server that is down for a while).</summary>
public sealed class SmtpServer : IAsyncDisposable
{
    private Process? _process;

    public int Port { get; } = FreePort.Next();

    public string MailDir { get; } = Directory.CreateTempSubdirectory("fincore-mail-").FullName;

    public string Url => $"smtp://127.0.0.1:{Port}";

    public static async Task<SmtpServer> CreateAsync()
    {
        var server = new SmtpServer();
        foreach (var sub in new[] { "tmp", "new", "cur" })
        {
            Directory.CreateDirectory(Path.Combine(server.MailDir, sub));
        }

        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        // Debian's python3 (where python3-aiosmtpd is installed), not whichever python3 is first on PATH.
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var psi = new ProcessStartInfo(python)
        {
            ArgumentList = { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{Port}", "-c", "aiosmtpd.handlers.Mailbox", MailDir },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(psi)!;
        // Read and dropped, so a full pipe never stalls the server.
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Poll.UntilAsync(async () =>
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException("aiosmtpd exited (is python3-aiosmtpd installed? ops/lib/ensure-deps installs it)");
            }

            using var tcp = new TcpClient();
            try
            {
                await tcp.ConnectAsync("127.0.0.1", Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "the SMTP server to listen");
    }

    public async Task StopAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>How many messages were accepted so far (without reading them).</summary>
    public int Count => Directory.GetFiles(Path.Combine(MailDir, "new")).Length + Directory.GetFiles(Path.Combine(MailDir, "cur")).Length;

    /// <summary>Every message accepted so far.</summary>
    public List<MimeMessage> Messages() =>
        Directory.EnumerateFiles(Path.Combine(MailDir, "new")).Concat(Directory.EnumerateFiles(Path.Combine(MailDir, "cur")))
            .Select(f => MimeMessage.Load(f)).ToList();

    /// <summary>The messages accepted for <paramref name="address"/>.</summary>
    public List<MimeMessage> MessagesTo(string address) =>
        Messages().Where(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, address, StringComparison.OrdinalIgnoreCase))).ToList();

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        TestDirs.Remove(MailDir);
    }
}
