using System.Net;
using FinCore.Tests.Infrastructure;

namespace FinCore.Tests.Payments;

[Collection(PaymentsCollection.Name)]
public sealed class OutageTests(PaymentsCluster fincore)
{
    [Fact]
    public async Task With_the_database_down_clients_get_503_with_retry_after_and_service_resumes_when_it_returns()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var before = (await fincore.Http.PostAsync("/v1/charges", key, Api.Charge())).Json.GetProperty("id").GetString();

        await fincore.Postgres.StopAsync();
        try
        {
            foreach (var response in new[]
            {
                await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 4321), idempotencyKey: "during-outage"),
                await fincore.Http.GetAsync("/v1/charges?limit=5", key),
                await fincore.Http.GetAsync($"/v1/charges/ch_{new string('0', 22)}", key),
            })
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.Status);
                Assert.Equal("unavailable", response.Json.GetProperty("code").GetString());
                Assert.True(response.Headers.RetryAfter is not null, "no Retry-After");
            }
        }
        finally
        {
            await fincore.Postgres.StartAsync();
        }

        // Back: the charge acknowledged before is there, and the request refused during the outage can be retried.
        await Poll.UntilAsync(async () => (await fincore.Http.GetAsync($"/v1/charges/{before}", key)).Status == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "reads to work again");
        var retried = await fincore.Http.PostAsync("/v1/charges", key, Api.Charge(amount: 4321), idempotencyKey: "during-outage");
        Assert.Equal(HttpStatusCode.Accepted, retried.Status);
        Assert.Equal(4321, retried.Json.GetProperty("amount").GetInt64());
    }
}
