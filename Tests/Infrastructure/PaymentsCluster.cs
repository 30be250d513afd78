using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace FinCore.Tests.Infrastructure;

/// <summary>FinCore as an API client meets it: two silos, a gateway process, PostgreSQL; real HTTP.</summary>
public sealed class PaymentsCluster : IAsyncLifetime
{
    public const string AdminToken = "test-admin-token-0123456789abcdef";

    public PostgresServer Postgres { get; } = new();

    public TestCluster Cluster { get; private set; } = null!;

    public SiloProcess Gateway { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public string Database => Cluster.Postgres;

    public async Task InitializeAsync()
    {
        await Postgres.InitializeAsync();
        Cluster = await TestCluster.StartAsync(Postgres, silos: 2);
        await StartGatewayAsync();
    }

    /// <summary>Starts (or restarts) the gateway and waits until it is ready.</summary>
    public async Task StartGatewayAsync()
    {
        Gateway = SiloProcess.StartGateway(Cluster.Postgres, Cluster.ClusterId, Cluster.Secret, AdminToken);
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Gateway.HttpPort}") };
        await Poll.UntilAsync(async () =>
        {
            if (Gateway.HasExited)
            {
                throw new InvalidOperationException("gateway exited:\n" + Gateway.Log);
            }

            return (await Http.GetAsync("/health/ready")).IsSuccessStatusCode;
        }, TimeSpan.FromSeconds(60), "the gateway to become ready");
    }

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
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await Postgres.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class PaymentsCollection : ICollectionFixture<PaymentsCluster>
{
    public const string Name = "payments";
}
