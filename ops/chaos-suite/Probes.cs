using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace FinCore.Chaos;

/// <summary>
/// Runs beside LoadGen during a scenario and asks the questions a load generator does not: does one
/// Idempotency-Key sent three times at once (and once more later) always yield one charge; does tenant B ever read
/// tenant A's charge; does any 5xx other than 503 come back.
/// </summary>
internal sealed class Probes(LocalCluster cluster, (string Id, string Key) a, (string Id, string Key) b)
{
    public int IdempotencyChecks;
    public int IdempotencyViolations;
    public int CrossTenantChecks;
    public int CrossTenantViolations;
    public int Unexpected5xx;
    public List<string> Notes { get; } = [];

    /// <summary>Charges the probes got acknowledged (tenant A), for the invariant checker.</summary>
    public List<(string Tenant, string Id)> Accepted { get; } = [];

    public async Task RunAsync(CancellationToken ct)
    {
        var n = 0;
        while (!ct.IsCancellationRequested)
        {
            n++;
            var key = $"probe-{Guid.NewGuid():N}";
            var body = $$"""{"amount":{{1000 + n}},"currency":"EUR","payment_method":"pm_probe_{{n}}","description":"chaos probe"}""";
            var first = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => PostAsync(key, body)));
            try
            {
                await Task.Delay(500, ct);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            var again = await PostAsync(key, body);
            var ids = first.Append(again).Where(id => id is not null).Distinct().ToList();
            if (ids.Count > 0)
            {
                IdempotencyChecks++;
                lock (Accepted)
                {
                    Accepted.Add((a.Id, ids[0]!));
                }
            }

            if (ids.Count > 1)
            {
                IdempotencyViolations++;
                Notes.Add($"key {key} gave charges {string.Join(", ", ids)}");
            }

            if (ids.Count > 0)
            {
                // Tenant B asks for tenant A's charge: 404 (or 503 while the database is down), never the charge.
                using var read = new HttpRequestMessage(HttpMethod.Get, $"{cluster.GatewayUrl}/v1/charges/{ids[0]}");
                read.Headers.Authorization = new AuthenticationHeaderValue("Bearer", b.Key);
                try
                {
                    using var response = await cluster.Http.SendAsync(read, ct);
                    CrossTenantChecks++;
                    if (response.IsSuccessStatusCode)
                    {
                        CrossTenantViolations++;
                        Notes.Add($"tenant {b.Id} read {ids[0]} of tenant {a.Id}");
                    }

                    Count5xx(response.StatusCode);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    // the gateway is restarting, or the scenario is over
                }
            }
        }
    }

    private async Task<string?> PostAsync(string key, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, cluster.GatewayUrl + "/v1/charges") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", a.Key);
        request.Headers.Add("Idempotency-Key", key);
        try
        {
            using var response = await cluster.Http.SendAsync(request);
            Count5xx(response.StatusCode);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            return doc.RootElement.GetProperty("id").GetString();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null; // the gateway is restarting, or the call timed out: not acknowledged
        }
    }

    private void Count5xx(HttpStatusCode code)
    {
        if ((int)code >= 500 && code != HttpStatusCode.ServiceUnavailable)
        {
            Interlocked.Increment(ref Unexpected5xx);
            lock (Notes)
            {
                Notes.Add($"probe got {(int)code}");
            }
        }
    }
}
