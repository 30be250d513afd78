using System.Threading.Channels;
using FinCore.Grains;
using FinCore.Persistence;

namespace FinCore.Gateway.Push;

/// <summary>
/// Wakes this gateway's notification streams when their customer has something new. One dedicated PostgreSQL
/// connection <c>LISTEN</c>s on <see cref="PushNotifications.Channel"/>, on which the silos' notifiers announce queued
/// push notifications as they commit; a stream woken reads what is new from the table itself, after the last seq it
/// sent. So the announcement only carries ids, and a lost one costs latency, never a notification: while the connection
/// is down streams fall back to their heartbeat, and on reconnecting every stream is woken.
/// </summary>
internal sealed partial class PushHub(Database database, ILogger<PushHub> logger) : BackgroundService
{
    private static readonly TimeSpan Probe = TimeSpan.FromSeconds(15);
    private readonly Dictionary<string, List<Subscription>> _streams = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public Subscription Subscribe(string tenant, string customer)
    {
        var subscription = new Subscription(this, tenant + " " + customer);
        lock (_lock)
        {
            if (!_streams.TryGetValue(subscription.Key, out var list))
            {
                _streams[subscription.Key] = list = [];
            }

            list.Add(subscription);
        }

        return subscription;
    }

    private void Unsubscribe(Subscription subscription)
    {
        lock (_lock)
        {
            if (_streams.TryGetValue(subscription.Key, out var list) && list.Remove(subscription) && list.Count == 0)
            {
                _streams.Remove(subscription.Key);
            }
        }
    }

    /// <summary>Payload: <c>"&lt;tenant&gt; &lt;customer&gt; &lt;seq&gt;"</c>.</summary>
    private void Wake(string payload)
    {
        var end = payload.LastIndexOf(' ');
        if (end <= 0)
        {
            return;
        }

        lock (_lock)
        {
            if (_streams.TryGetValue(payload[..end], out var list))
            {
                foreach (var s in list)
                {
                    s.Wake();
                }
            }
        }
    }

    private void WakeAll()
    {
        lock (_lock)
        {
            foreach (var s in _streams.Values.SelectMany(l => l))
            {
                s.Wake();
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = database.CreateDedicatedConnection();
                conn.Notification += (_, e) => Wake(e.Payload);
                await conn.OpenAsync(stoppingToken);
                await using (var listen = new Npgsql.NpgsqlCommand("LISTEN " + PushNotifications.Channel, conn))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                failures = 0;
                WakeAll(); // whatever committed while nobody listened
                while (true)
                {
                    if (!await conn.WaitAsync(Probe, stoppingToken))
                    {
                        // Quiet for a while: make sure the connection still stands (a silently dropped one never wakes).
                        await using var ping = new Npgsql.NpgsqlCommand("SELECT 1", conn);
                        await ping.ExecuteNonQueryAsync(stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                ListenFailed(logger, e.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 250 * failures)), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(EventId = 7800, Level = LogLevel.Warning, Message = "Listening for push notifications failed, reconnecting: {Error}")]
    private static partial void ListenFailed(ILogger logger, string error);

    /// <summary>One open stream's wake-up: at most one pending, however many announcements came.</summary>
    public sealed class Subscription(PushHub hub, string key) : IDisposable
    {
        private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        internal string Key { get; } = key;

        internal void Wake() => _signal.Writer.TryWrite(true);

        /// <summary>Waits for a wake-up; false when <paramref name="timeout"/> passed first.</summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
        {
            if (_signal.Reader.TryRead(out _))
            {
                return true;
            }

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            try
            {
                await _signal.Reader.WaitToReadAsync(cts.Token);
                return _signal.Reader.TryRead(out _);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return false;
            }
        }

        public void Dispose() => hub.Unsubscribe(this);
    }
}
