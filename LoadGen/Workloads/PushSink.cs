using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using FinCore.LoadGen.Metrics;

namespace FinCore.LoadGen.Workloads;

/// <summary>The customers' apps during a run (<c>--push-streams N</c>): for N of the tenants' customers (the payers and
/// merchants transfers move money between, spread over the tenants) it mints a session token and holds their
/// notification stream open (<c>GET /v1/notifications/stream</c>), as API.md describes. It counts what arrives,
/// duplicates and reconnects (each resumed with <c>Last-Event-ID</c>), and records each notification's push lag:
/// arrival − the event's <c>occurred_at</c>.</summary>
internal sealed class PushSink : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _streams = [];
    private long _reconnects;
    private int _open;

    private PushSink(Uri target)
    {
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan, MaxConnectionsPerServer = int.MaxValue })
        {
            BaseAddress = target,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The notifications that arrived; their lag is arrival − occurred_at.</summary>
    public Arrivals Arrivals { get; } = new();

    public int Streams { get; private set; }

    /// <summary>Whether every customer of every tenant has a stream (so each transfer should arrive twice).</summary>
    public bool Everyone { get; private set; }

    public int Open => Volatile.Read(ref _open);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Mints the tokens and opens the streams; returns once every stream has answered.</summary>
    public static async Task<PushSink> StartAsync(Uri target, IReadOnlyList<TenantContext> tenants, int streams, CancellationToken ct)
    {
        var sink = new PushSink(target);
        var customers = new List<(TenantContext Tenant, string Customer)>();
        var perTenant = tenants.Select(t => t.Customers.Append(t.MerchantCustomer!).ToArray()).ToArray();
        for (var i = 0; customers.Count < streams && i < perTenant.Max(c => c.Length); i++)
        {
            for (var t = 0; t < tenants.Count && customers.Count < streams; t++)
            {
                if (i < perTenant[t].Length)
                {
                    customers.Add((tenants[t], perTenant[t][i]));
                }
            }
        }

        sink.Streams = customers.Count;
        sink.Everyone = customers.Count == perTenant.Sum(c => c.Length);
        var opened = new ConcurrentBag<TaskCompletionSource>();
        await Parallel.ForEachAsync(customers, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (c, token) =>
        {
            var session = await sink.MintAsync(c.Tenant, c.Customer, token).ConfigureAwait(false);
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            opened.Add(ready);
            lock (sink._streams)
            {
                sink._streams.Add(Task.Run(() => sink.HoldAsync(session, ready), CancellationToken.None));
            }
        }).ConfigureAwait(false);

        var all = Task.WhenAll(opened.Select(o => o.Task));
        if (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60), ct)).ConfigureAwait(false) != all)
        {
            throw new SetupException($"only {sink.Open} of {customers.Count} notification streams opened within 60 s");
        }

        await all.ConfigureAwait(false);
        return sink;
    }

    private async Task<string> MintAsync(TenantContext tenant, string customer, CancellationToken ct)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, $"/v1/customers/{customer}/session-tokens")
        {
            Content = new StringContent("""{"expires_in":3600}""", Encoding.UTF8, "application/json"),
        };
        req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
        using var res = await _http.SendAsync(req, ct).ConfigureAwait(false);
        var body = await res.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (res.StatusCode != HttpStatusCode.Created)
        {
            throw new SetupException($"POST /v1/customers/{customer}/session-tokens answered {(int)res.StatusCode}: {body}");
        }

        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("token").GetString()!;
    }

    /// <summary>Holds one customer's stream open until the sink stops, resuming after the last event it saw.</summary>
    private async Task HoldAsync(string token, TaskCompletionSource ready)
    {
        string? last = null;
        var first = true;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using var req = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications/stream");
                req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                if (last is not null)
                {
                    req.Headers.TryAddWithoutValidation("Last-Event-ID", last);
                }

                using var res = await _http.SendAsync(req, HttpCompletionOption.ResponseHeadersRead, _stop.Token).ConfigureAwait(false);
                if (res.StatusCode != HttpStatusCode.OK)
                {
                    throw new HttpRequestException($"the stream answered {(int)res.StatusCode}");
                }

                Interlocked.Increment(ref _open);
                try
                {
                    if (!first)
                    {
                        Interlocked.Increment(ref _reconnects);
                    }

                    first = false;
                    ready.TrySetResult();
                    using var reader = new StreamReader(await res.Content.ReadAsStreamAsync(_stop.Token).ConfigureAwait(false));
                    string? id = null, type = null, data = null;
                    while (await reader.ReadLineAsync(_stop.Token).ConfigureAwait(false) is { } line)
                    {
                        if (line.Length == 0)
                        {
                            if (type == "notification" && data is not null)
                            {
                                Arrived(data);
                            }

                            last = id ?? last;
                            (id, type, data) = (null, null, null);
                        }
                        else if (line.StartsWith("id: ", StringComparison.Ordinal))
                        {
                            id = line[4..];
                        }
                        else if (line.StartsWith("event: ", StringComparison.Ordinal))
                        {
                            type = line[7..];
                        }
                        else if (line.StartsWith("data: ", StringComparison.Ordinal))
                        {
                            data = line[6..];
                        }
                    }
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception) when (!_stop.IsCancellationRequested)
            {
                // dropped or refused: resume after a moment
            }

            try
            {
                await Task.Delay(500, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Arrived(string data)
    {
        var arrived = DateTimeOffset.UtcNow;
        using var doc = JsonDocument.Parse(data);
        Arrivals.Add(doc.RootElement.GetProperty("id").GetString(), arrived, doc.RootElement.GetProperty("occurred_at").GetDateTimeOffset());
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        Task[] streams;
        lock (_streams)
        {
            streams = [.. _streams];
        }

        await Task.WhenAll(streams).ConfigureAwait(false);
        _http.Dispose();
        _stop.Dispose();
    }
}
