namespace FinCore.Chaos;

/// <summary>
/// A fault scenario: how long LoadGen drives traffic, and the faults injected meanwhile (the script runs from the
/// start of the load and returns when the last fault has ended).
/// </summary>
/// <param name="Name">What <c>--scenario</c> names it.</param>
/// <param name="Description">What it does, for the results table.</param>
/// <param name="Load">How long LoadGen runs.</param>
/// <param name="Faults">The fault script.</param>
/// <param name="Mix">LoadGen's mix, when not the charges-first one every other scenario drives.</param>
/// <param name="Rate">With <paramref name="Mix"/>: the request rate, whatever charge rate the run was given.</param>
internal sealed record Scenario(string Name, string Description, TimeSpan Load, Func<LocalCluster, Action<string>, CancellationToken, Task> Faults,
    string? Mix = null, double? Rate = null);

internal static class Scenarios
{
    public static readonly IReadOnlyList<string> Names = ["kill-silo", "db-outage", "psp-outage", "psp-slow", "gateway-restart", "all", "kill-silo-transfers"];

    private const string HealthyPsp = """{"latency_ms":{"p50":40,"p99":250},"error_rate":0.02}""";
    private const string SlowPsp = """{"latency_ms":{"p50":200,"p99":5000},"error_rate":0.02}""";
    private const string DownPsp = """{"latency_ms":{"p50":40,"p99":250},"outage":true}""";

    /// <summary>The scenario; <paramref name="longRun"/> is the full version (the issue's timings), else the short one.</summary>
    public static Scenario Get(string name, bool longRun)
    {
        TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);
        return name switch
        {
            "kill-silo" => new(name, longRun ? "kill -9 a random silo every 20 s and start a replacement (6 times)" : "kill -9 a random silo every 12 s and start a replacement (2 times)",
                S(longRun ? 135 : 32), async (c, log, ct) =>
                {
                    for (var i = 0; i < (longRun ? 6 : 2); i++)
                    {
                        await Task.Delay(S(i == 0 ? (longRun ? 10 : 6) : (longRun ? 20 : 12)), ct);
                        var victim = c.KillRandomSilo();
                        log($"  killed silo pid {victim.Id}");
                        await Task.Delay(S(2), ct);
                        await c.StartSiloAsync();
                        log("  replacement silo active");
                    }
                }),
            "db-outage" => new(name, "stop PostgreSQL for 10 s, then start it", S(longRun ? 60 : 26), async (c, log, ct) =>
            {
                await Task.Delay(S(longRun ? 10 : 6), ct);
                await c.StopDatabaseAsync();
                log("  PostgreSQL stopped");
                await Task.Delay(S(10), ct);
                await c.StartDatabaseAsync();
                log("  PostgreSQL started");
            }),
            "psp-outage" => PspFault(name, longRun ? "PSP outage for 30 s" : "PSP outage for 12 s", S(longRun ? 60 : 24), DownPsp, "PSP down", S(longRun ? 30 : 12), longRun),
            "psp-slow" => PspFault(name, longRun ? "PSP slow (p50 200 ms, p99 5 s) for 60 s" : "PSP slow (p50 200 ms, p99 5 s) for 12 s", S(longRun ? 90 : 24), SlowPsp, "PSP slow", S(longRun ? 60 : 12), longRun),
            "gateway-restart" => new(name, "SIGTERM the gateway and start it again", S(longRun ? 60 : 20), async (c, log, ct) =>
            {
                await Task.Delay(S(longRun ? 10 : 6), ct);
                await c.RestartGatewayAsync();
                log("  gateway restarted");
            }),
            "all" => new(name, "all of the above at once", S(longRun ? 120 : 40), async (c, log, ct) =>
            {
                await Task.Delay(S(5), ct);
                await c.SetPspFaultsAsync(SlowPsp);
                log("  PSP slow");
                await Task.Delay(S(5), ct);
                var victim = c.KillRandomSilo();
                log($"  killed silo pid {victim.Id}");
                await c.StopDatabaseAsync();
                log("  PostgreSQL stopped");
                await Task.Delay(S(10), ct);
                await c.StartDatabaseAsync();
                log("  PostgreSQL started");
                await c.StartSiloAsync();
                log("  replacement silo active");
                await c.RestartGatewayAsync();
                log("  gateway restarted");
                await c.SetPspFaultsAsync(DownPsp);
                log("  PSP down");
                await Task.Delay(S(longRun ? 30 : 10), ct);
                await c.SetPspFaultsAsync(HealthyPsp);
                log("  PSP back");
            }),
            // Transfers only (a fifth of them to one hot merchant): a silo killed while thousands are between their halves.
            "kill-silo-transfers" => new(name, "kill -9 a random silo during 500 transfers/s, and start a replacement", S(longRun ? 60 : 24), async (c, log, ct) =>
            {
                await Task.Delay(S(longRun ? 20 : 8), ct);
                var victim = c.KillRandomSilo();
                log($"  killed silo pid {victim.Id}");
                await Task.Delay(S(2), ct);
                await c.StartSiloAsync();
                log("  replacement silo active");
            }, Mix: "transfer=100", Rate: 500),
            _ => throw new ArgumentException($"unknown scenario '{name}' (one of: {string.Join(", ", Names)})", nameof(name)),
        };
    }

    public static string Healthy => HealthyPsp;

    /// <summary>The PSP sandbox misbehaves as <paramref name="faults"/> for <paramref name="span"/>, then is healthy again.</summary>
    private static Scenario PspFault(string name, string description, TimeSpan load, string faults, string what, TimeSpan span, bool longRun) =>
        new(name, description, load, async (c, log, ct) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(longRun ? 10 : 6), ct);
            await c.SetPspFaultsAsync(faults);
            log("  " + what);
            await Task.Delay(span, ct);
            await c.SetPspFaultsAsync(HealthyPsp);
            log("  PSP healthy again");
        });
}
