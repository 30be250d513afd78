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
            var first = await RunOnceAsync(state, basePort, underLoad: true);
            var second = await RunOnceAsync(state, basePort, underLoad: false);
            Assert.Equal(first.Postgres, second.Postgres);

            // The second run found the first run's cluster in the same database: three silos from each run (two, and one added).
            await Shell.RunAsync(Repo.Ops("pg"), "start", Path.Combine(state, "pg"), basePort.ToString());
            await using var conn = new NpgsqlConnection(first.Postgres);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM orleans_membership WHERE deployment_id = 'local' AND status = 6", conn);
            Assert.Equal(6L, await cmd.ExecuteScalarAsync());
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await Shell.RunAsync(Repo.Ops("pg"), "stop", Path.Combine(state, "pg"), "immediate");
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task Ops_up_refuses_ports_another_process_holds_and_names_them()
    {
        var state = Directory.CreateTempSubdirectory("fincore-up-busy-").FullName;
        var basePort = FreePort.Block(40);
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, basePort + 1); // the gateway's port
        squatter.Start();
        try
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                Shell.RunAsync(Repo.Ops("up"), "--no-build", "--base-port", basePort.ToString(), "--state-dir", state));
            Assert.Contains($"port(s) {basePort + 1} already in use", refused.Message, StringComparison.Ordinal);
            Assert.False(File.Exists(Path.Combine(state, "run.json")), "nothing was started");
        }
        finally
        {
            TestDirs.Remove(state);
        }
    }

    private static async Task<(string Postgres, int[] Pids)> RunOnceAsync(string state, int basePort, bool underLoad)
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
        try
        {
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

            // Operators grow and shrink the cluster with ops/silo — the first time under LoadGen traffic, which must see no failure.
            Task<LoadGenProcess.Result>? load = null;
            var loadOut = Path.Combine(state, "loadgen");
            if (underLoad)
            {
                load = LoadGenProcess.RunAsync("run", "--target", gateway, "--admin-token", root.GetProperty("admin_token").GetString()!, "--tenants", "2",
                    "--rate", "100", "--duration", "35s", "--mix", "create=60,get=40", "--connections", "16", "--quiet", "--out", loadOut,
                    "--track-completion", "--threshold", "errors<=0%", "--threshold", "dropped<=0%", "--threshold", "incomplete<=0%");
                await Poll.UntilAsync(async () => (await http.GetStringAsync(gateway + "/metrics")).Contains("route=\"/v1/charges\"", StringComparison.Ordinal),
                    TimeSpan.FromSeconds(30), "LoadGen traffic to arrive");
            }

            var added = await Shell.RunAsync(Repo.Ops("silo"), "add", "--state-dir", state);
            Assert.Contains("is Active", added, StringComparison.Ordinal);
            var listed = await Shell.RunAsync(Repo.Ops("silo"), "list", "--state-dir", state);
            Assert.Equal(3, listed.Split('\n').Count(l => l.Contains("\tactive\t", StringComparison.Ordinal)));
            if (underLoad)
            {
                // The new silo takes its share: new charges activate there too (every active silo hosts activations).
                await Poll.UntilAsync(async () => (await Shell.RunAsync(Repo.Ops("silo"), "list", "--state-dir", state)).Split('\n')
                    .Count(l => l.Contains("\tactive\t", StringComparison.Ordinal) && !l.Contains("activations=0\t", StringComparison.Ordinal) && !l.Contains("activations=-", StringComparison.Ordinal)) == 3,
                    TimeSpan.FromSeconds(30), "the added silo to host activations");
            }

            Assert.Contains("drained", await Shell.RunAsync(Repo.Ops("silo"), "drain", "silo-2", "--state-dir", state), StringComparison.Ordinal);
            listed = await Shell.RunAsync(Repo.Ops("silo"), "list", "--state-dir", state);
            Assert.Equal(2, listed.Split('\n').Count(l => l.Contains("\tactive\t", StringComparison.Ordinal)));
            if (load is not null)
            {
                using var run = await load;
                var totals = run.Report.GetProperty("totals");
                Assert.True(run.ExitCode == 0, $"LoadGen saw failures while a silo was added and drained: {totals}\n{run.Report.GetProperty("status_codes")}\n{run.Stderr}");
                Assert.True(totals.GetProperty("completed").GetInt64() >= 3000);
                Assert.Equal(0, totals.GetProperty("errors").GetInt64());

                // Every charge acknowledged meanwhile settled, and LoadGen saw it by listing (a page per ~100 charges), not
                // by reading each: the real list API places charges by their created_at.
                var completion = run.Report.GetProperty("completion");
                var accepted = completion.GetProperty("accepted").GetInt64();
                Assert.Equal(accepted, completion.GetProperty("terminal").GetInt64());
                Assert.True(completion.GetProperty("requests").GetProperty("get").GetInt64() < accepted / 3, $"tracking read by id: {completion}");
            }

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
        finally
        {
            // A failed assertion must not leave the cluster running (silos, gateway, sandbox, PostgreSQL): stop it as
            // Ctrl-C would, and if that does not end it, end the whole process tree.
            if (!up.HasExited)
            {
                await Shell.RunAsync("kill", "-TERM", up.Id.ToString());
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
                try
                {
                    await up.WaitForExitAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    up.Kill(entireProcessTree: true);
                }
            }
        }
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
