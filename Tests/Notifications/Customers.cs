using System.Net;
using System.Text.Json;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Notifications;

/// <summary>Customers as the notification tests need them: made, funded and paying each other through the API.</summary>
internal static class Customers
{
    private const string Cpf = "529.982.247-25";

    /// <summary>A tenant's two customers: Ana (funded with R$ 100,00) and Bruno, each with an address of their own.</summary>
    public sealed record Pair(string Key, string Ana, string AnaAccount, string AnaEmail, string Bruno, string BrunoAccount, string BrunoEmail);

    public static string Unique(string name) => $"{name}-{Guid.NewGuid():N}@example.com";

    public static async Task<(string Customer, string Account)> CreateAsync(HttpClient http, string key, string name, string email)
    {
        var r = await http.PostAsync("/v1/customers", key, JsonSerializer.Serialize(new { kind = "individual", name, email, document = Cpf }));
        Assert.True(r.Status == HttpStatusCode.Created, r.Body);
        return (r.Json.GetProperty("id").GetString()!, r.Json.GetProperty("account").GetString()!);
    }

    public static async Task FundAsync(HttpClient http, string key, string account, long amount)
    {
        var charge = await http.PostAsync("/v1/charges", key, JsonSerializer.Serialize(new { amount, currency = "BRL", payment_method = "pm_card_visa", account }));
        Assert.True(charge.Status == HttpStatusCode.Accepted, charge.Body);
        await Poll.UntilAsync(async () => (await http.GetAsync($"/v1/accounts/{account}", key)).Json.GetProperty("balance").GetInt64() >= amount,
            TimeSpan.FromSeconds(30), $"account {account} to be funded");
    }

    /// <summary>A new tenant with <see cref="Pair"/>'s two customers.</summary>
    public static async Task<Pair> TwoAsync(PaymentsCluster fincore)
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var (anaEmail, brunoEmail) = (Unique("ana"), Unique("bruno"));
        var (ana, anaAccount) = await CreateAsync(fincore.Http, key, "Ana Souza", anaEmail);
        var (bruno, brunoAccount) = await CreateAsync(fincore.Http, key, "Bruno Lima", brunoEmail);
        await FundAsync(fincore.Http, key, anaAccount, 10_000);
        return new Pair(key, ana, anaAccount, anaEmail, bruno, brunoAccount, brunoEmail);
    }

    public static async Task<string> TransferAsync(HttpClient http, string key, string from, string to, long amount)
    {
        var r = await http.PostAsync("/v1/transfers", key, JsonSerializer.Serialize(new { from, to, amount, description = "rent" }));
        Assert.True(r.Status == HttpStatusCode.Created, r.Body);
        return r.Json.GetProperty("id").GetString()!;
    }
}
