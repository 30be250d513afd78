using System.Diagnostics;
using System.Text.Json;
using FinCore.Tests.Infrastructure;
using Npgsql;

namespace FinCore.Tests.Ops;

/// <summary>ops/up as a newcomer runs it: everything starts, run.json tells where, SIGTERM stops it all, and a
/// second run reuses the database.</summary>
public sealed class OpsUpTests
{
    [Fact]
    public async Task Ops_up_starts_the_cluster_writes_run_json_stops_cleanly_and_reuses_the_database()
    {
        var state = Path.Combine(Path.GetTempPath(), $"fincore-up-{Guid.NewGuid():N}");
        Directory.CreateDirectory(state);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(state, (UnixFileMode)0x1ED);
        }
        var basePort = FreePort.Block(40); // PostgreSQL, gateway, sandbox, silo ports: all derived from the base
        try
        {
            var first = await RunOnceAsync(state, basePort);
            var second = await RunOnceAsync(state, basePort);
            Assert.Equal(first.Postgres, second.Postgres);

            // The second run found the first run's cluster in the same database: three silos from each run (two, and one added).
            await Shell.RunAsync(Repo.Ops("pg"), "start", Path.Combine(state, "pg"), basePort.ToString());
            await using var conn = new NpgsqlConnection(first.Postgres);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM fc_silos WHERE cluster_id = 'local' AND status = 4", conn);
            Assert.Equal(6L, await cmd.ExecuteScalarAsync());
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await Shell.RunAsync(Repo.Ops("pg"), "stop", Path.Combine(state, "pg"), "immediate");
            Directory.Delete(state, recursive: true);
        }
    }

    private static async Task<(string Postgres, int[] Pids)> RunOnceAsync(string state, int basePort)
    {
        File.Delete(Path.Combine(state, "run.json"));
        var psi = new ProcessStartInfo(Repo.Ops("up")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--no-build", "--silos", "2", "--base-port", basePort.ToString(), "--state-dir", state })
        {
            psi.ArgumentList.Add(a);
        }

        using var up = Process.Start(psi)!;
        var stdout = up.StandardOutput.ReadToEndAsync();
        var stderr = up.StandardError.ReadToEndAsync();
        var runJson = Path.Combine(state, "run.json");
        await Poll.UntilAsync(() => File.Exists(runJson) || up.HasExited, TimeSpan.FromSeconds(120), "ops/up to write run.json");
        if (up.HasExited)
        {
            Assert.Fail($"ops/up exited early: {await stdout}\n{await stderr}");
        }

        using var doc = JsonDocument.Parse(await File.ReadAllTextAsync(runJson));
        var root = doc.RootElement;
        Assert.StartsWith("fc_admin_", root.GetProperty("admin_token").GetString());
        var silos = root.GetProperty("silos").EnumerateArray().ToList();
        Assert.Equal(2, silos.Count);
        using var http = new HttpClient();
        foreach (var silo in silos)
        {
            var ready = await http.GetAsync(silo.GetProperty("http").GetString() + "/health/ready");
            Assert.True(ready.IsSuccessStatusCode);
            Assert.Contains(silo.GetProperty("id").GetString()!, await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The gateway answers and the demo tenant's key works.
        var gateway = root.GetProperty("gateway_url").GetString()!;
        using (var me = new HttpRequestMessage(HttpMethod.Get, gateway + "/v1/tenant"))
        {
            me.Headers.TryAddWithoutValidation("Authorization", "Bearer " + root.GetProperty("demo_api_key").GetString());
            using var tenant = await http.SendAsync(me);
            Assert.True(tenant.IsSuccessStatusCode, await tenant.Content.ReadAsStringAsync());
        }

        // The PSP sandbox answers, and a charge made through the gateway gets captured.
        var psp = root.GetProperty("psp_url").GetString()!;
        Assert.True((await http.GetAsync(psp + "/health/live")).IsSuccessStatusCode);

        // Operators grow and shrink the cluster with ops/silo.
        var added = await Shell.RunAsync(Repo.Ops("silo"), "add", "--state-dir", state);
        Assert.Contains("is Active", added, StringComparison.Ordinal);
        var listed = await Shell.RunAsync(Repo.Ops("silo"), "list", "--state-dir", state);
        Assert.Equal(3, listed.Split('\n').Count(l => l.Contains("\tactive\t", StringComparison.Ordinal)));
        Assert.Contains("drained", await Shell.RunAsync(Repo.Ops("silo"), "drain", "silo-2", "--state-dir", state), StringComparison.Ordinal);
        listed = await Shell.RunAsync(Repo.Ops("silo"), "list", "--state-dir", state);
        Assert.Equal(2, listed.Split('\n').Count(l => l.Contains("\tactive\t", StringComparison.Ordinal)));

        var pids = silos.Select(s => s.GetProperty("pid").GetInt32()).ToArray();
        var postgres = root.GetProperty("postgres").GetString()!;

        await Shell.RunAsync("kill", "-TERM", up.Id.ToString());
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await up.WaitForExitAsync(cts.Token);
        Assert.Contains("stopped", await stdout, StringComparison.Ordinal);
        foreach (var pid in pids)
        {
            Assert.True(HasExited(pid), $"silo pid {pid} still runs after ops/up stopped");
        }

        Assert.False(File.Exists(Path.Combine(state, "pg", "data", "postmaster.pid")), "PostgreSQL still runs after ops/up stopped");
        return (postgres, pids);
    }

    private static bool HasExited(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException)
        {
            return true;
        }
    }
}
