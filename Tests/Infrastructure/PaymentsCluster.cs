using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace FinCore.Tests.Infrastructure;

/// <summary>FinCore as an API client meets it: two silos, a gateway process, PostgreSQL, the PSP sandbox; real HTTP.
/// For the payments-API tests the first PSP attempt is held back (a cancel window), so charges stay
/// <c>created</c> while those tests look at them; <see cref="PspCluster"/> processes at once.</summary>
public class PaymentsCluster : IAsyncLifetime
{
    public const string AdminToken = "test-admin-token-0123456789abcdef";
    public const string PspSecret = "test-psp-secret-0123456789abcdef";

    protected virtual IReadOnlyDictionary<string, string> SiloSettings => new Dictionary<string, string> { ["Psp__StartDelay"] = "01:00:00" };

    /// <summary>Every process writes its spans here (one JSON-lines file per process id).</summary>
    public string TraceDir { get; } = Directory.CreateTempSubdirectory("fincore-traces-").FullName;

    private Dictionary<string, string> TraceSettings => new() { ["FINCORE_TRACE_FILE"] = Path.Combine(TraceDir, "spans-{pid}.jsonl") };

    public SiloProcess Psp { get; private set; } = null!;

    /// <summary>Whether the silos send email, to <see cref="Smtp"/>.</summary>
    protected virtual bool WithSmtp => false;

    /// <summary>The SMTP server the silos send to (null unless <see cref="WithSmtp"/>).</summary>
    public SmtpServer? Smtp { get; private set; }

    public HttpClient PspHttp { get; private set; } = null!;

    private int _gatewayPort;

    public PostgresServer Postgres { get; } = new();

    public TestCluster Cluster { get; private set; } = null!;

    public SiloProcess Gateway { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string Database => Cluster.Postgres;

    public async Task InitializeAsync()
    {
        await Postgres.InitializeAsync();
        _gatewayPort = FreePort.Next();
        Psp = SiloProcess.StartPsp(PspSecret, $"http://127.0.0.1:{_gatewayPort}/v1/psp/webhook");
        PspHttp = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Psp.HttpPort}") };
        await Poll.UntilAsync(async () => !Psp.HasExited && (await PspHttp.GetAsync("/health/live")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(60), "the PSP sandbox to start");
        var env = new Dictionary<string, string>(SiloSettings) { ["FINCORE_PSP_URL"] = PspHttp.BaseAddress!.ToString() };
        if (WithSmtp)
        {
            Smtp = await SmtpServer.CreateAsync();
            env["FINCORE_SMTP_URL"] = Smtp.Url;
        }

        foreach (var (k, v) in TraceSettings)
        {
            env[k] = v;
        }

        Cluster = await TestCluster.StartAsync(Postgres, silos: 2, env: env);
        await StartGatewayAsync();
    }

    /// <summary>Starts (or restarts) the gateway and waits until it is ready.</summary>
    public async Task StartGatewayAsync()
    {
        Gateway = SiloProcess.StartGateway(Cluster.Postgres, Cluster.ClusterId, Cluster.Certificate, AdminToken, _gatewayPort, PspSecret, TraceSettings);
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Gateway.HttpPort}") };
        await WaitReadyAsync(Gateway, Http);
    }

    /// <summary>A second gateway of the same cluster on a port of its own, ready; the caller disposes both.</summary>
    public async Task<(SiloProcess Gateway, HttpClient Http)> StartAnotherGatewayAsync()
    {
        var gateway = SiloProcess.StartGateway(Cluster.Postgres, Cluster.ClusterId, Cluster.Certificate, AdminToken, null, PspSecret, TraceSettings);
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.HttpPort}") };
        await WaitReadyAsync(gateway, http);
        return (gateway, http);
    }

    private static Task WaitReadyAsync(SiloProcess gateway, HttpClient http) => Poll.UntilAsync(async () =>
    {
        if (gateway.HasExited)
        {
            throw new InvalidOperationException("gateway exited:\n" + gateway.Log);
        }

        return (await http.GetAsync("/health/ready")).IsSuccessStatusCode;
    }, TimeSpan.FromSeconds(60), "the gateway to become ready");

    public async Task RestartGatewayAsync()
    {
        await Gateway.DisposeAsync();
        await StartGatewayAsync();
    }

    public async Task<(string Id, string Key)> CreateTenantAsync(string currency = "BRL", object? limits = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tenants")
        {
            Content = JsonContent.Create(new { name = "Tenant " + Guid.NewGuid().ToString("N")[..6], currency, limits }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, body);
        using var doc = JsonDocument.Parse(body);
        return (doc.RootElement.GetProperty("id").GetString()!, doc.RootElement.GetProperty("api_key").GetString()!);
    }

    public async Task<long> ScalarAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(Cluster.Postgres);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        PspHttp?.Dispose();
        if (Psp is not null)
        {
            await Psp.DisposeAsync();
        }

        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await Postgres.DisposeAsync();
        if (Smtp is not null)
        {
            await Smtp.DisposeAsync();
        }

        TestDirs.Remove(TraceDir);
    }
}

[CollectionDefinition(Name)]
public sealed class PaymentsCollection : ICollectionFixture<PaymentsCluster>
{
    public const string Name = "payments";
}

/// <summary>The PSP path under test, with email to a real SMTP server: processing starts at once; retries are bounded by 40 s of elapsed time (the
/// product default is 10 minutes) so exhaustion is reachable in a test, yet a 30 s outage is ridden out.</summary>
public sealed class PspCluster : PaymentsCluster
{
    protected override bool WithSmtp => true;

    protected override IReadOnlyDictionary<string, string> SiloSettings => new Dictionary<string, string>
    {
        ["Psp__StartDelay"] = "00:00:00",
        ["Psp__MaxAttempts"] = "1000",
        ["Psp__MaxElapsed"] = "00:00:40",
        ["Psp__BaseDelay"] = "00:00:00.100",
        ["Psp__MaxDelay"] = "00:00:02",
        ["Psp__AttemptTimeout"] = "00:00:01",
        ["Psp__PendingCheck"] = "00:00:05",
        ["Psp__SweepPeriod"] = "00:00:02",
        ["Psp__StrandedAfter"] = "00:00:05",
        ["Webhooks__MaxDelay"] = "00:00:05",
        ["Webhooks__Timeout"] = "00:00:03",
        ["Notifications__MaxDelay"] = "00:00:02",
        ["PersonalData__KeyCache"] = "00:00:02",
    };
}

[CollectionDefinition(Name)]
public sealed class PspCollection : ICollectionFixture<PspCluster>
{
    public const string Name = "psp";
}
