using System.Globalization;
using System.Text.RegularExpressions;
using FinCore.Grains;

namespace FinCore.Gateway.Dashboard;

/// <summary>
/// Feeds the dashboard. Every second, from memory: a snapshot of this gateway's HTTP latency histogram (rate and
/// percentiles come from differences between snapshots). Every two seconds, only while someone has the dashboard
/// open: the membership table and its changes, the silos' activations and PSP outcome counters (HTTP to each silo),
/// the dead-letter count (a grain call) and the ledger's volume (the entries written since the last sample, a range of
/// the entries' primary key). Keeps five minutes.
/// </summary>
internal sealed partial class DashboardSampler(RequestStats requests, ClusterSnapshots clusters, IGrainFactory grains, IHttpClientFactory httpClients,
    FinCore.Persistence.Database database, ILogger<DashboardSampler> log)
    : BackgroundService
{
    private readonly LinkedList<LedgerSample> _ledger = new();
    private long? _ledgerSeen;
    private DateTime _ledgerSeenAt;
    private const int Keep = 300;
    private readonly Lock _gate = new();
    private readonly LinkedList<RequestSample> _samples = new();
    private readonly LinkedList<MembershipChange> _changes = new();
    private Dictionary<string, string> _lastStatus = [];
    private (long Version, IReadOnlyList<SiloSnapshot> Silos) _cluster = (0, []);
    private Dictionary<string, double> _pspOutcomes = [];
    private int? _deadLetters;
    private long _lastViewed = long.MinValue / 2;

    public DashboardData Snapshot()
    {
        Volatile.Write(ref _lastViewed, Environment.TickCount64);
        lock (_gate)
        {
            var samples = _samples.ToList();
            var series = new List<SeriesPoint>();
            for (var i = 1; i < samples.Count; i++)
            {
                var (a, b) = (samples[i - 1], samples[i]);
                var seconds = (b.At - a.At).TotalSeconds;
                var window = samples[Math.Max(0, i - 5)];
                var delta = Delta(window, b);
                series.Add(new SeriesPoint(b.At, seconds <= 0 ? 0 : (b.Count - a.Count) / seconds, Percentile(delta, 0.50), Percentile(delta, 0.95), Percentile(delta, 0.99), seconds <= 0 ? 0 : (b.Errors - a.Errors) / seconds));
            }

            var last = samples.Count > 0 ? samples[^1] : null;
            return new DashboardData(
                DateTime.UtcNow,
                _cluster.Version,
                _cluster.Silos,
                last?.Count ?? 0,
                series.Count > 0 ? series[^1] : null,
                series,
                _pspOutcomes,
                _deadLetters,
                [.. _changes],
                Ledger());
        }
    }

    /// <summary>Ledger transactions and the amount they moved: per second over the last ten seconds, and per type over
    /// the five minutes kept.</summary>
    private LedgerVolume? Ledger()
    {
        if (_ledger.Count == 0)
        {
            return null;
        }

        var last = _ledger.Last!.Value;
        var recent = _ledger.Where(l => l.At > last.At.AddSeconds(-10)).ToList();
        var seconds = Math.Max(1, (last.At - recent[0].Since).TotalSeconds);
        var byType = _ledger.SelectMany(l => l.ByType).GroupBy(t => t.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => new LedgerCount(g.Sum(t => t.Value.Transactions), g.Sum(t => t.Value.Amount)), StringComparer.Ordinal);
        return new LedgerVolume(recent.Sum(l => l.ByType.Values.Sum(v => v.Transactions)) / seconds, recent.Sum(l => l.ByType.Values.Sum(v => v.Amount)) / seconds, byType);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var tick = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            SampleRequests();
            var watched = Environment.TickCount64 - Volatile.Read(ref _lastViewed) < 60_000;
            if (tick++ % 2 == 0 && watched)
            {
                try
                {
                    await SampleClusterAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    SampleFailed(log, e.Message);
                }
            }
        }
    }

    private void SampleRequests()
    {
        var (count, errors, buckets) = requests.Read();
        lock (_gate)
        {
            _samples.AddLast(new RequestSample(DateTime.UtcNow, count, errors, buckets));
            while (_samples.Count > Keep)
            {
                _samples.RemoveFirst();
            }
        }
    }

    private async Task SampleClusterAsync(CancellationToken ct)
    {
        var view = await clusters.TakeAsync(ct);
        var cluster = (Version: (long)view.MembershipVersion, Silos: (IReadOnlyList<SiloSnapshot>)view.Silos.Select(ClusterSnapshots.Shape).ToList());
        TrackMembership(cluster.Silos);
        var outcomes = new Dictionary<string, double>(StringComparer.Ordinal);
        var client = httpClients.CreateClient("silo-health");
        foreach (var silo in cluster.Silos.Where(s => s.Status != "dead" && s.HttpUrl is not null))
        {
            try
            {
                var text = await client.GetStringAsync(silo.HttpUrl + "/metrics", ct);
                foreach (Match m in PspOutcome().Matches(text))
                {
                    var outcome = m.Groups["outcome"].Value;
                    outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // a silo that just left: its counters are gone with it
            }
        }

        int? deadLetters;
        try
        {
            deadLetters = await grains.Grain<IDeadLetterGrain>("all").Count();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            deadLetters = null;
        }

        var ledger = await SampleLedgerAsync(ct);
        lock (_gate)
        {
            _cluster = cluster;
            _pspOutcomes = outcomes;
            _deadLetters = deadLetters;
            if (ledger is not null)
            {
                _ledger.AddLast(ledger);
                while (_ledger.Count > Keep / 2)
                {
                    _ledger.RemoveFirst();
                }
            }
        }
    }

    /// <summary>The ledger transactions written since the last sample, by type (each has one positive entry, the amount
    /// it moved). The first sample only notes where the ledger ends.</summary>
    private async Task<LedgerSample?> SampleLedgerAsync(CancellationToken ct)
    {
        try
        {
            await using var cmd = database.DataSource.CreateCommand(_ledgerSeen is null
                ? "SELECT NULL::text, 0::bigint, 0::bigint, coalesce(max(id), 0) FROM ledger_entries"
                : """
                  SELECT type, count(*) FILTER (WHERE amount > 0), coalesce(sum(amount) FILTER (WHERE amount > 0), 0)::bigint, max(id)
                  FROM ledger_entries WHERE id > $1 GROUP BY type
                  """);
            if (_ledgerSeen is { } seen)
            {
                cmd.Parameters.AddWithValue(seen);
            }

            var byType = new Dictionary<string, LedgerCount>(StringComparer.Ordinal);
            var max = _ledgerSeen ?? 0;
            await using var r = await cmd.ExecuteReaderAsync(ct);
            while (await r.ReadAsync(ct))
            {
                max = Math.Max(max, r.GetInt64(3));
                if (!r.IsDBNull(0))
                {
                    byType[r.GetString(0)] = new LedgerCount(r.GetInt64(1), r.GetInt64(2));
                }
            }

            var (first, since, now) = (_ledgerSeen is null, _ledgerSeenAt, DateTime.UtcNow);
            (_ledgerSeen, _ledgerSeenAt) = (max, now);
            return first ? null : new LedgerSample(since, now, byType);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            SampleFailed(log, "ledger: " + e.Message);
            return null;
        }
    }

    /// <summary>Silos appearing or changing status between two readings of the membership table.</summary>
    private void TrackMembership(IReadOnlyList<SiloSnapshot> silos)
    {
        var status = silos.ToDictionary(s => s.Id, s => s.Status);
        lock (_gate)
        {
            var first = _lastStatus.Count == 0 && _changes.Count == 0;
            foreach (var s in silos.Where(s => _lastStatus.GetValueOrDefault(s.Id) != status[s.Id]))
            {
                _changes.AddFirst(new MembershipChange(first ? s.StartedAt : DateTime.UtcNow, s.Id, _lastStatus.GetValueOrDefault(s.Id) ?? "absent", status[s.Id]));
            }

            while (_changes.Count > 50)
            {
                _changes.RemoveLast();
            }

            _lastStatus = status;
        }
    }

    private static long[] Delta(RequestSample from, RequestSample to)
    {
        var d = new long[to.Buckets.Length];
        for (var i = 0; i < d.Length; i++)
        {
            d[i] = to.Buckets[i] - from.Buckets[i];
        }

        return d;
    }

    /// <summary>The value below which a fraction <paramref name="q"/> of the requests fell, interpolated within its bucket (as Prometheus' histogram_quantile).</summary>
    private static double? Percentile(long[] buckets, double q)
    {
        var total = buckets.Sum();
        if (total == 0)
        {
            return null;
        }

        var rank = q * total;
        double seen = 0;
        var bounds = RequestStats.Bounds;
        for (var i = 0; i < buckets.Length; i++)
        {
            if (seen + buckets[i] >= rank)
            {
                var lower = i == 0 ? 0 : bounds[i - 1];
                var upper = double.IsInfinity(bounds[i]) ? lower : bounds[i];
                return buckets[i] == 0 ? upper : lower + ((upper - lower) * (rank - seen) / buckets[i]);
            }

            seen += buckets[i];
        }

        return bounds[^2];
    }

    [GeneratedRegex(@"^fincore_psp_outcomes_total\{(?:[^}]*,)?outcome=""(?<outcome>[^""]+)""[^}]*\} (?<value>\S+)", RegexOptions.Multiline)]
    private static partial Regex PspOutcome();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Dashboard sample failed: {Reason}")]
    private static partial void SampleFailed(ILogger logger, string reason);

    private sealed record RequestSample(DateTime At, long Count, long Errors, long[] Buckets);

    /// <summary>The ledger transactions written from <paramref name="Since"/> to <paramref name="At"/>.</summary>
    private sealed record LedgerSample(DateTime Since, DateTime At, Dictionary<string, LedgerCount> ByType);
}

/// <summary>Ledger transactions and the amount (minor units, all currencies) they moved.</summary>
internal sealed record LedgerCount(long Transactions, long Amount);

/// <summary>The ledger's volume: per second lately, and per type (charge, transfer, refund) over the minutes kept.</summary>
internal sealed record LedgerVolume(double TransactionsPerSecond, double AmountPerSecond, IReadOnlyDictionary<string, LedgerCount> ByType);

internal sealed record SeriesPoint(DateTime At, double Rate, double? P50, double? P95, double? P99, double Errors5xxRate);

internal sealed record MembershipChange(DateTime At, string Silo, string From, string To);

internal sealed record DashboardData(
    DateTime GeneratedAt,
    long MembershipVersion,
    IReadOnlyList<SiloSnapshot> Silos,
    long RequestsTotal,
    SeriesPoint? Now,
    IReadOnlyList<SeriesPoint> Series,
    IReadOnlyDictionary<string, double> PspOutcomes,
    int? DeadLetters,
    IReadOnlyList<MembershipChange> MembershipChanges,
    LedgerVolume? Ledger);
