using System.Diagnostics;
using FinCore.Tests.Grains;
using FinCore.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FinCore.Tests.Cluster;

/// <summary>What FinCore relies on Orleans for, over real silo processes on our PostgreSQL schema: the cluster forms
/// in our membership tables, grains of a killed silo answer again from the others within seconds, state is
/// ETag-guarded, reminders survive their silo, and nothing without the cluster certificate gets in.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OrleansClusterTests(PostgresServer server)
{
    [Fact]
    public async Task Two_silos_form_a_cluster_and_grains_answer_and_keep_state_on_both()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 2);
        foreach (var silo in cluster.Silos)
        {
            Assert.Equal(3, await cluster.StatusAsync(silo)); // Active
        }

        var grains = Enumerable.Range(0, 40).Select(i => cluster.Client.GetGrain<IProbeGrain>($"probe/{i}")).ToList();
        var places = await Task.WhenAll(grains.Select(g => g.WhereAmI()));
        foreach (var silo in cluster.Silos)
        {
            Assert.Contains(places, p => p.StartsWith(TestCluster.AddressOf(silo), StringComparison.Ordinal));
        }

        Assert.All(await Task.WhenAll(grains.Select(g => g.Increment())), n => Assert.Equal(1, n));
        Assert.All(await Task.WhenAll(grains.Select(g => g.Increment())), n => Assert.Equal(2, n));
        Assert.Equal(40, await CountAsync(cluster.Postgres, "SELECT count(*) FROM orleans_grain_state WHERE version = 2"));
    }

    [Fact]
    public async Task Grains_of_a_killed_silo_answer_from_another_within_3_seconds_with_their_state()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 3);
        var grains = Enumerable.Range(0, 90).Select(i => cluster.Client.GetGrain<IProbeGrain>($"failover/{i}")).ToList();
        await Task.WhenAll(grains.Select(g => g.Increment()));
        var victim = cluster.Silos[1];
        var places = await Task.WhenAll(grains.Select(g => g.WhereAmI()));
        var onVictim = grains.Where((_, i) => places[i].StartsWith(TestCluster.AddressOf(victim), StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(onVictim);

        victim.Kill();
        var clock = Stopwatch.StartNew();
        var answeredAfter = await Task.WhenAll(onVictim.Select(async g =>
        {
            while (true)
            {
                try
                {
                    // A call sent just as the silo died gets no answer (it ends at the response timeout): the
                    // caller gives up on it after 0.5 s and calls again, so the figure is when the grain answers,
                    // not when an unanswered call's wait ends.
                    var where = await g.WhereAmI().WaitAsync(TimeSpan.FromMilliseconds(500));
                    Assert.False(where.StartsWith(TestCluster.AddressOf(victim), StringComparison.Ordinal));
                    return clock.Elapsed;
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException && clock.Elapsed < TimeSpan.FromSeconds(30))
                {
                    await Task.Delay(50); // the dead silo is not declared dead yet: a caller retries
                }
            }
        }));

        var slowest = answeredAfter.Max();
        Assert.True(slowest <= TimeSpan.FromSeconds(3), $"the killed silo's grains answered again after {slowest.TotalSeconds:0.00} s; the target is 3 s");
        Assert.All(await Task.WhenAll(onVictim.Select(g => g.Increment())), n => Assert.Equal(2, n));
        Assert.Equal(6, await cluster.StatusAsync(victim)); // Dead

        // What operators see: the live silos first, each with its activations, then the dead one.
        await using var db = NpgsqlDataSource.Create(cluster.Postgres);
        var view = await FinCore.Cluster.ClusterViewSnapshot.ReadAsync(db, cluster.ClusterId, cluster.Client, CancellationToken.None);
        Assert.Equal(["active", "active", "dead"], view.Silos.Select(s => s.Status));
        Assert.StartsWith($"127.0.0.1:{victim.Port}@", view.Silos[2].Id, StringComparison.Ordinal);
        Assert.All(view.Silos.Take(2), s => Assert.True(s.Activations > 0, $"{s.Id} has {s.Activations} activations"));
    }

    [Fact]
    public async Task Idempotent_calls_retried_through_a_silo_kill_all_succeed()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 3);
        var grains = Enumerable.Range(0, 60).Select(i => cluster.Client.GetGrain<IProbeGrain>($"kill/{i}")).ToList();
        await Task.WhenAll(grains.Select(g => g.Set(7)));

        // Eight callers read and re-set every grain in a loop (both idempotent) while one silo is killed.
        using var stop = new CancellationTokenSource();
        long calls = 0, failures = 0;
        var callers = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = c; !stop.IsCancellationRequested; i += 8)
            {
                var grain = grains[i % grains.Count];
                try
                {
                    Assert.Equal(7, await FinCore.Cluster.GrainCallRetry.IdempotentAsync(() => grain.Get()));
                    await FinCore.Cluster.GrainCallRetry.IdempotentAsync(() => grain.Set(7));
                    Interlocked.Increment(ref calls);
                }
                catch (Exception) when (!stop.IsCancellationRequested)
                {
                    Interlocked.Increment(ref failures); // a call still failing after the retry budget
                }
            }
        })).ToList();

        await Poll.UntilAsync(() => Interlocked.Read(ref calls) > 200, TimeSpan.FromSeconds(30), "calls to flow");
        cluster.Silos[1].Kill();
        await Poll.UntilAsync(async () => await cluster.StatusAsync(cluster.Silos[1]) == 6, TimeSpan.FromSeconds(30), "the killed silo to be declared dead");
        var atDeath = Interlocked.Read(ref calls);
        await Poll.UntilAsync(() => Interlocked.Read(ref calls) > atDeath + 200, TimeSpan.FromSeconds(30), "calls to flow after the death");
        await stop.CancelAsync();
        await Task.WhenAll(callers);

        Assert.Equal(0, Interlocked.Read(ref failures));
    }

    [Fact]
    public async Task A_stale_activation_cannot_overwrite_newer_state()
    {
        // Each storage a grain state can live in: Orleans' ADO.NET one, FinCore's group commit, and an application row.
        var storages = new Dictionary<string, int> { ["adonet"] = 991, ["groupcommit"] = 992, ["rows"] = 993 };
        await using var cluster = await TestCluster.StartAsync(server, silos: 2);
        await ExecuteAsync(cluster.Postgres, "CREATE TABLE probe_outbox (grain text NOT NULL, count integer NOT NULL)");
        await ExecuteAsync(cluster.Postgres, ProbeRowsTable);
        var grains = new Dictionary<string, IProbe>();
        var logs = new List<string>();
        bool Shown(int value) => logs.Any(l => l.Contains($"late write of {value} ", StringComparison.Ordinal));

        // A silo that wakes up and learns it was declared dead stops at once; sometimes before its timers' writes are
        // made. A storage whose write such a round did not show is played again on a new silo (four rounds at most).
        for (var round = 1; round <= 4 && storages.Values.Any(v => !Shown(v)); round++)
        {
            var stale = round == 1 ? cluster.Silos[0] : (await cluster.AddSilosAsync(1))[0];
            var playing = storages.Where(kv => !Shown(kv.Value)).ToList();
            foreach (var (storage, value) in playing)
            {
                var grain = await FindGrainOnAsync(cluster, stale, $"stale-{storage}-{round}", storage);
                Assert.Equal(1, await grain.Increment());
                // The activation on that silo arms a write that will come late: its silo freezes before it is made,
                // is declared dead, and the grain moves on without it.
                await grain.ArmLateWrite(TimeSpan.FromSeconds(1), value);
                grains[storage] = grain;
            }

            stale.Pause();
            await Poll.UntilAsync(async () => await cluster.StatusAsync(stale) == 6, TimeSpan.FromSeconds(30), "the frozen silo to be declared dead");
            foreach (var (storage, _) in playing)
            {
                await RetryAsync(async () =>
                {
                    await grains[storage].Set(2); // a new activation on another silo reads version 1 and writes version 2
                    return true;
                });
            }

            stale.Resume(); // its activations wake up and make the writes they were about to make, with the versions they read
            await Poll.UntilAsync(() => stale.HasExited || playing.All(kv => stale.Log.Contains($"late write of {kv.Value} ", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), "the stale activations' timers to write, or their silo to stop");
            await Task.Delay(200); // a line may come just before the exit is seen
            logs.Add(stale.Log);
        }

        var log = string.Join('\n', logs);
        foreach (var (storage, value) in storages)
        {
            Assert.True(Shown(value), $"{storage}: in four rounds no stale activation got to write");
            Assert.Contains($"late write of {value} refused", log, StringComparison.Ordinal);
            Assert.DoesNotContain($"late write of {value} stored", log, StringComparison.Ordinal);
            Assert.Equal(2, await grains[storage].Get());
        }

        Assert.Equal(0, await CountAsync(cluster.Postgres, "SELECT count(*) FROM orleans_grain_state WHERE convert_from(payload, 'UTF8') ~ '\\m99[123]\\M'"));
        Assert.Equal(0, await CountAsync(cluster.Postgres, "SELECT count(*) FROM fc_grain_state WHERE data::text ~ '\\m99[123]\\M'"));
        Assert.Equal(0, await CountAsync(cluster.Postgres, "SELECT count(*) FROM probe_outbox WHERE count > 2")); // nor its statements
        Assert.Equal(0, await CountAsync(cluster.Postgres, "SELECT count(*) FROM probe_rows WHERE count > 2"));
    }

    [Fact]
    public async Task Reminders_owned_by_a_killed_silo_still_fire_on_the_others()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 3);
        var grains = Enumerable.Range(0, 60).Select(i => cluster.Client.GetGrain<IReminderProbeGrain>($"reminder/{i}")).ToList();
        await Task.WhenAll(grains.Select(g => g.Schedule(TimeSpan.FromSeconds(6), TimeSpan.FromMinutes(1))));
        Assert.True(await CountAsync(cluster.Postgres, "SELECT count(*) FROM orleans_reminders WHERE grain_id NOT LIKE 'charge-sweeper/%'") == 60);

        var victim = cluster.Silos[2];
        victim.Kill(); // before any is due: the ranges it owned (and the grains it hosted) move to the others
        await Poll.UntilAsync(async () => (await Task.WhenAll(grains.Select(g => RetryAsync(() => g.Fired())))).All(f => f is not null),
            TimeSpan.FromSeconds(50), "every reminder to fire", intervalMs: 500);

        var fired = await Task.WhenAll(grains.Select(g => g.Fired()));
        Assert.All(fired, f => Assert.False(f!.Silo.StartsWith(TestCluster.AddressOf(victim), StringComparison.Ordinal)));
        await Poll.UntilAsync(async () => await CountAsync(cluster.Postgres, "SELECT count(*) FROM orleans_reminders WHERE grain_id NOT LIKE 'charge-sweeper/%'") == 0,
            TimeSpan.FromSeconds(10), "each grain to drop its reminder after the tick");
    }

    [Fact]
    public async Task Racing_first_writes_of_a_grain_state_leave_one_row_and_one_winner()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 1);
        string write;
        await using (var conn = new NpgsqlConnection(cluster.Postgres))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT querytext FROM orleansquery WHERE querykey = 'WriteToStorageKey'", conn);
            write = (string)(await cmd.ExecuteScalarAsync())!;
        }

        // The statement Orleans' storage runs for a grain's first write (no ETag yet), twice at once per grain.
        await using var dataSource = NpgsqlDataSource.Create(cluster.Postgres);
        async Task<int?> FirstWrite(string key, byte payload)
        {
            await using var cmd = dataSource.CreateCommand(write);
            cmd.Parameters.AddWithValue("GrainIdHash", key.GetHashCode());
            cmd.Parameters.AddWithValue("GrainIdN0", 0L);
            cmd.Parameters.AddWithValue("GrainIdN1", 0L);
            cmd.Parameters.AddWithValue("GrainTypeHash", 7);
            cmd.Parameters.AddWithValue("GrainTypeString", "race");
            cmd.Parameters.AddWithValue("GrainIdExtensionString", key);
            cmd.Parameters.AddWithValue("ServiceId", "fincore");
            cmd.Parameters.AddWithValue("GrainStateVersion", DBNull.Value);
            cmd.Parameters.AddWithValue("PayloadBinary", new[] { payload });
            return await cmd.ExecuteScalarAsync() as int?;
        }

        var keys = Enumerable.Range(0, 300).Select(i => $"race/{i}").ToList();
        var results = await Task.WhenAll(keys.Select(async k => await Task.WhenAll(FirstWrite(k, 1), FirstWrite(k, 2))));
        Assert.All(results, pair => Assert.Single(pair, v => v == 1));
        Assert.All(results, pair => Assert.Single(pair, v => v is null));
        Assert.Equal(300, await CountAsync(cluster.Postgres, "SELECT count(*) FROM orleans_grain_state WHERE grain_type = 'race'"));
    }

    [Fact]
    public async Task A_client_without_the_cluster_certificate_is_refused()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 1);
        Assert.Equal(1, await cluster.Client.GetGrain<IProbeGrain>("tls").Increment()); // the cluster's own client gets in

        // A client with a certificate of its own: the silo's TLS handshake rejects it, and the client, which retries
        // its gateways for minutes, is given 15 s.
        using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var refused = await Record.ExceptionAsync(async () =>
        {
            using var foreign = await cluster.StartClientAsync(ClusterCertificate.CreateForeign(), patience.Token);
            await foreign.Services.GetRequiredService<Orleans.IClusterClient>().GetGrain<IProbeGrain>("tls").Increment();
        });
        Assert.NotNull(refused);
        await Poll.UntilAsync(() => cluster.Silos[0].Log.Contains("The remote certificate was rejected", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10), "the silo to log the rejected handshake");
        Assert.Equal(1, await cluster.Client.GetGrain<IProbeGrain>("tls").Get());
    }

    [Fact]
    public async Task Group_committed_writes_commit_their_statements_with_them_once_each()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 2);
        await ExecuteAsync(cluster.Postgres, "CREATE TABLE probe_outbox (grain text NOT NULL, count integer NOT NULL)");
        var grains = Enumerable.Range(0, 200).Select(i => cluster.Client.GetGrain<IGroupCommitProbeGrain>($"batch/{i}")).ToList();
        for (var round = 1; round <= 5; round++)
        {
            Assert.All(await Task.WhenAll(grains.Select(g => g.Increment())), n => Assert.Equal(round, n));
        }

        Assert.Equal(1000, await CountAsync(cluster.Postgres, "SELECT count(*) FROM probe_outbox"));
        Assert.Equal(1000, await CountAsync(cluster.Postgres, "SELECT count(DISTINCT (grain, count)) FROM probe_outbox"));
        Assert.Equal(200, await CountAsync(cluster.Postgres, "SELECT count(*) FROM fc_grain_state WHERE etag = 5 AND data::text LIKE '%\"count\":5%'"));
    }

    [Fact]
    public async Task A_state_stored_by_the_previous_runtime_is_read_and_written_on()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 1);
        await ExecuteAsync(cluster.Postgres, "CREATE TABLE probe_outbox (grain text NOT NULL, count integer NOT NULL)");
        // A row as FinCore's runtime wrote it: fc_grain_state, web-style JSON, its own version.
        await ExecuteAsync(cluster.Postgres, $$"""
            INSERT INTO fc_grain_state (grain_type, grain_key, state_name, etag, write_id, data, updated_at)
            VALUES ('{{GroupCommitProbeGrain.TypeName}}', 'old/1', 'probe', 7, gen_random_uuid(), '{"count":41}', now())
            """);
        var grain = cluster.Client.GetGrain<IGroupCommitProbeGrain>("old/1");
        Assert.Equal(41, await grain.Get());
        Assert.Equal(42, await grain.Increment());
        Assert.Equal(1, await CountAsync(cluster.Postgres, "SELECT count(*) FROM fc_grain_state WHERE grain_key = 'old/1' AND etag = 8"));
    }

    [Fact]
    public async Task A_row_kept_state_lives_in_its_row_and_one_stored_before_as_json_stays_there_with_its_row_in_step()
    {
        await using var cluster = await TestCluster.StartAsync(server, silos: 1);
        await ExecuteAsync(cluster.Postgres, ProbeRowsTable);
        // A state an earlier version kept as JSON, with the read-model row it kept beside it.
        await ExecuteAsync(cluster.Postgres, $$"""
            INSERT INTO fc_grain_state (grain_type, grain_key, state_name, etag, write_id, data, updated_at)
            VALUES ('{{RowProbeGrain.TypeName}}', 'legacy', 'probe', 3, gen_random_uuid(), '{"count":10}', now());
            INSERT INTO probe_rows (grain, count) VALUES ('legacy', 10);
            """);

        var fresh = cluster.Client.GetGrain<IRowProbeGrain>("fresh");
        Assert.Equal(1, await fresh.Increment());
        Assert.Equal(2, await fresh.Increment());
        Assert.Equal(1, await CountAsync(cluster.Postgres, "SELECT count(*) FROM probe_rows WHERE grain = 'fresh' AND count = 2 AND etag = 2"));
        Assert.Equal(0, await CountAsync(cluster.Postgres, "SELECT count(*) FROM fc_grain_state WHERE grain_key = 'fresh'"));

        var legacy = cluster.Client.GetGrain<IRowProbeGrain>("legacy");
        Assert.Equal(10, await legacy.Get());
        Assert.Equal(11, await legacy.Increment());
        Assert.Equal(1, await CountAsync(cluster.Postgres, "SELECT count(*) FROM fc_grain_state WHERE grain_key = 'legacy' AND etag = 4"));
        Assert.Equal(1, await CountAsync(cluster.Postgres, "SELECT count(*) FROM probe_rows WHERE grain = 'legacy' AND count = 11 AND etag IS NULL"));
    }

    private const string ProbeRowsTable = "CREATE TABLE probe_rows (grain text PRIMARY KEY, count integer NOT NULL, etag bigint, write_id uuid)";

    private static async Task<IProbe> FindGrainOnAsync(TestCluster cluster, SiloProcess silo, string prefix, string storage = "adonet")
    {
        for (var i = 0; ; i++)
        {
            IProbe grain = storage switch
            {
                "groupcommit" => cluster.Client.GetGrain<IGroupCommitProbeGrain>($"{prefix}/{i}"),
                "rows" => cluster.Client.GetGrain<IRowProbeGrain>($"{prefix}/{i}"),
                _ => cluster.Client.GetGrain<IProbeGrain>($"{prefix}/{i}"),
            };
            if ((await grain.WhereAmI()).StartsWith(TestCluster.AddressOf(silo), StringComparison.Ordinal))
            {
                return grain;
            }
        }
    }

    private static async Task ExecuteAsync(string postgres, string sql)
    {
        await using var conn = new NpgsqlConnection(postgres);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>A call retried while the cluster settles after a silo died (calls routed to it fail fast).</summary>
    private static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<long> CountAsync(string postgres, string sql)
    {
        await using var conn = new NpgsqlConnection(postgres);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }
}
