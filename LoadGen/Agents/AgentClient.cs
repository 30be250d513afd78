using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using FinCore.LoadGen.Metrics;

namespace FinCore.LoadGen.Agents;

/// <summary>The coordinator's view of one agent: its HTTP API (the token on every request) and what it has sent so far.</summary>
internal sealed class AgentClient : IDisposable
{
    private readonly HttpClient http;
    private readonly Dictionary<int, (AgentSecond Second, Totals Slot)> pending = [];
    private readonly Dictionary<int, AgentSegment> ended = [];
    private int nextSegment;

    public AgentClient(Uri baseUri, string token)
    {
        Name = baseUri.Authority;
        http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(3) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public string Name { get; }

    /// <summary>Agent clock − coordinator clock, from the fastest of a few round trips.</summary>
    public double ClockOffsetMs { get; private set; }

    /// <summary>Why the agent was given up on (it died or stopped answering); null while it is in the run.</summary>
    public string? Lost { get; set; }

    public DateTimeOffset LastAnswer { get; set; } = DateTimeOffset.UtcNow;

    public string State { get; set; } = "idle";

    /// <summary>The next second to ask for; seconds before it were received.</summary>
    public int NextSecond { get; private set; }

    public AgentResult? Result { get; set; }

    /// <summary>The measured seconds received (counts and histograms): the agent's figures if it is lost before its result.</summary>
    public Totals FromSeconds { get; } = new(concurrent: false);

    public long SentFromSeconds { get; private set; }

    public double CpuFromSecondsSum { get; private set; }

    public int CpuSecondsCounted { get; private set; }

    public double LastCpuPct { get; private set; }

    public bool Settled(int second) => pending.ContainsKey(second) || Lost is not null || (State is "done" or "failed" && second >= NextSecond);

    /// <summary>Second <paramref name="second"/> as the agent sent it, its slot decoded (once, when it arrived).</summary>
    public (AgentSecond Second, Totals Slot)? Take(int second) => pending.Remove(second, out var s) ? s : null;

    public bool Has(int second) => pending.ContainsKey(second);

    /// <summary>The agent's figures for measured phase <paramref name="index"/> as it ended, once it has.</summary>
    public AgentSegment? Ended(int index) => ended.GetValueOrDefault(index);

    public Task EndPhaseAsync(string reason, CancellationToken ct) => PostAsync("/v1/agent/end-phase", new AgentStop(reason, Abort: false), ct);

    public int MaxPending => pending.Count == 0 ? -1 : pending.Keys.Max();

    public async Task MeasureClockAsync(CancellationToken ct)
    {
        var best = double.MaxValue;
        for (var i = 0; i < 5; i++)
        {
            var before = DateTimeOffset.UtcNow;
            var status = await StatusAsync(ct).ConfigureAwait(false);
            var after = DateTimeOffset.UtcNow;
            var rtt = (after - before).TotalMilliseconds;
            if (rtt < best)
            {
                best = rtt;
                ClockOffsetMs = (status.Now - before).TotalMilliseconds - (rtt / 2);
            }
        }
    }

    public async Task<AgentStatus> StatusAsync(CancellationToken ct) =>
        await ReadAsync<AgentStatus>(await http.GetAsync("/v1/agent", ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    public Task PrepareAsync(AgentWork work, CancellationToken ct) => PostAsync("/v1/agent/prepare", work, ct);

    public Task StartAsync(DateTimeOffset coordinatorInstant, CancellationToken ct) =>
        PostAsync("/v1/agent/start", new AgentStart(coordinatorInstant.AddMilliseconds(ClockOffsetMs)), ct);

    public Task StopAsync(AgentStop stop, CancellationToken ct) => PostAsync("/v1/agent/stop", stop, ct);

    /// <summary>Collects the seconds the agent finished since the last call; returns its state.</summary>
    public async Task<string> CollectAsync(CancellationToken ct)
    {
        var batch = await ReadAsync<AgentSeconds>(await http.GetAsync($"/v1/agent/seconds?from={NextSecond}&segments_from={nextSegment}", ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        foreach (var s in batch.Seconds)
        {
            if (s.T < NextSecond)
            {
                continue;
            }

            var slot = Totals.Decode(s.Slot);
            pending[s.T] = (s, slot);
            NextSecond = s.T + 1;
            if (!s.Row.Warmup)
            {
                FromSeconds.Add(slot);
            }

            SentFromSeconds += s.Row.Sent;
            LastCpuPct = s.Row.CpuPct;
            if (s.Row.CpuPct > 0)
            {
                CpuFromSecondsSum += s.Row.CpuPct;
                CpuSecondsCounted++;
            }
        }

        foreach (var e in batch.Ended)
        {
            ended[e.Index] = e;
            nextSegment = Math.Max(nextSegment, e.Index + 1);
        }

        LastAnswer = DateTimeOffset.UtcNow;
        State = batch.State;
        return batch.State;
    }

    public async Task<AgentResult> ResultAsync(CancellationToken ct) =>
        await ReadAsync<AgentResult>(await http.GetAsync("/v1/agent/result", ct).ConfigureAwait(false), ct).ConfigureAwait(false);

    public void Dispose() => http.Dispose();

    private async Task PostAsync<T>(string path, T body, CancellationToken ct)
    {
        using var res = await http.PostAsJsonAsync(path, body, AgentJson.Options, ct).ConfigureAwait(false);
        await EnsureAsync(res, ct).ConfigureAwait(false);
    }

    private async Task<T> ReadAsync<T>(HttpResponseMessage res, CancellationToken ct)
    {
        using (res)
        {
            await EnsureAsync(res, ct).ConfigureAwait(false);
            return await res.Content.ReadFromJsonAsync<T>(AgentJson.Options, ct).ConfigureAwait(false)
                ?? throw new HttpRequestException($"agent {Name}: empty answer");
        }
    }

    private async Task EnsureAsync(HttpResponseMessage res, CancellationToken ct)
    {
        if (res.StatusCode == HttpStatusCode.Unauthorized)
        {
            throw new HttpRequestException($"agent {Name} refused the token (401)");
        }

        if (!res.IsSuccessStatusCode)
        {
            var body = await res.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new HttpRequestException($"agent {Name}: {(int)res.StatusCode} {body}");
        }
    }
}
