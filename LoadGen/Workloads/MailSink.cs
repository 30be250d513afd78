using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text;
using FinCore.LoadGen.Metrics;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace FinCore.LoadGen.Workloads;

/// <summary>The mail server FinCore sends to during a run (<c>--mail-sink host:port</c>; the silos' <c>FINCORE_SMTP_URL</c>
/// must name it): a real SMTP server (the SmtpServer library) that accepts every message, counts first arrivals and
/// duplicates by <c>X-FinCore-Notification</c>, and records each email's lag: accepted − <c>X-FinCore-Occurred-At</c>,
/// the time of the event it tells of. It keeps nothing else.</summary>
internal sealed class MailSink : IAsyncDisposable
{
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    private MailSink(IPEndPoint endpoint)
    {
        var options = new SmtpServerOptionsBuilder().ServerName("loadgen-mail-sink").Endpoint(b => b.Endpoint(endpoint)).Build();
        var services = new ServiceProvider();
        services.Add(new Store(this));
        services.Add(new NoDelayListeners());
        _server = new SmtpServer.SmtpServer(options, services);
        _running = _server.StartAsync(_stop.Token);
        Endpoint = endpoint;
    }

    public IPEndPoint Endpoint { get; }

    /// <summary>The emails accepted; their lag is accepted − occurred_at.</summary>
    public Arrivals Arrivals { get; } = new();

    /// <summary>Listens on <paramref name="address"/> (<c>host:port</c>).</summary>
    public static MailSink Start(string address)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !IPAddress.TryParse(address[..colon], out var ip) || !int.TryParse(address[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            throw new FormatException("--mail-sink must be host:port, e.g. 127.0.0.1:2525");
        }

        return new MailSink(new IPEndPoint(ip, port));
    }

    private void Arrived(ReadOnlySequence<byte> message)
    {
        var accepted = DateTimeOffset.UtcNow;
        string? id = null;
        DateTimeOffset? occurred = null;
        // The headers end at the first empty line; only two of them count here.
        foreach (var line in Encoding.UTF8.GetString(message.Length > 16_384 ? message.Slice(0, 16_384) : message).Split("\r\n"))
        {
            if (line.Length == 0)
            {
                break;
            }

            if (line.StartsWith("X-FinCore-Notification:", StringComparison.OrdinalIgnoreCase))
            {
                id = line[(line.IndexOf(':') + 1)..].Trim();
            }
            else if (line.StartsWith("X-FinCore-Occurred-At:", StringComparison.OrdinalIgnoreCase)
                     && DateTimeOffset.TryParse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                occurred = at;
            }
        }

        Arrivals.Add(id, accepted, occurred);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _server.Shutdown();
        try
        {
            await _running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    /// <summary>Accepts connections with Nagle's algorithm off. With it on, a pipelining client (MailKit) waited for the
    /// second of two small replies until its own delayed ACK let it go: 40 ms a message, the sink's not FinCore's.</summary>
    private sealed class NoDelayListeners : SmtpServer.Net.IEndpointListenerFactory
    {
        public SmtpServer.Net.IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
        {
            var listener = new System.Net.Sockets.TcpListener(endpointDefinition.Endpoint);
            listener.Start();
            return new Listener(listener);
        }

        private sealed class Listener(System.Net.Sockets.TcpListener listener) : SmtpServer.Net.IEndpointListener
        {
            public async Task<SmtpServer.IO.ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
            {
                var socket = await listener.AcceptSocketAsync(cancellationToken).ConfigureAwait(false);
                socket.NoDelay = true;
                return new Pipe(new System.Net.Sockets.NetworkStream(socket, ownsSocket: true));
            }

            public void Dispose() => listener.Stop();
        }

        /// <summary>A plain connection's reader and writer (the sink offers no STARTTLS).</summary>
        private sealed class Pipe(Stream stream) : SmtpServer.IO.ISecurableDuplexPipe
        {
            public System.IO.Pipelines.PipeReader Input { get; } = System.IO.Pipelines.PipeReader.Create(stream);

            public System.IO.Pipelines.PipeWriter Output { get; } = System.IO.Pipelines.PipeWriter.Create(stream);

            public bool IsSecure => false;

            public System.Security.Authentication.SslProtocols SslProtocol => System.Security.Authentication.SslProtocols.None;

            public Task UpgradeAsync(System.Security.Cryptography.X509Certificates.X509Certificate certificate, System.Security.Authentication.SslProtocols protocols,
                CancellationToken cancellationToken = default) => throw new NotSupportedException("the mail sink speaks plain SMTP only");

            public void Dispose() => stream.Dispose();
        }
    }

    private sealed class Store(MailSink sink) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            sink.Arrived(buffer);
            return Task.FromResult(SmtpResponse.Ok);
        }
    }
}
