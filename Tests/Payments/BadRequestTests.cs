using System.Net.Http.Headers;
using System.Text;
using FinCore.Tests.Infrastructure;
using Xunit.Abstractions;

namespace FinCore.Tests.Payments;

/// <summary>Garbage in: every bad request is a 4xx problem response, and nothing in the database changes.</summary>
[Collection(PaymentsCollection.Name)]
public sealed class BadRequestTests(PaymentsCluster fincore, ITestOutputHelper output)
{
    private sealed record Bad(string Name, HttpMethod Method, string Path, byte[]? Body, string? ContentType, string? Auth, Dictionary<string, string>? Headers = null);

    private static IEnumerable<Bad> Corpus(string key, string otherTenantCharge)
    {
        var valid = Api.Charge();
        Bad Post(string name, string body, string? contentType = "application/json", string? auth = null, Dictionary<string, string>? headers = null) =>
            new(name, HttpMethod.Post, "/v1/charges", Encoding.UTF8.GetBytes(body), contentType, auth ?? key, headers);

        // Malformed and truncated JSON.
        foreach (var (n, b) in new[]
        {
            ("empty", ""), ("space", " "), ("null", "null"), ("array", "[]"), ("string", "\"x\""), ("number", "42"), ("true", "true"),
            ("open brace", "{"), ("truncated", valid[..(valid.Length / 2)]), ("trailing comma", "{\"amount\":1,}"), ("single quotes", "{'amount':1}"),
            ("comment", "/* x */ {\"amount\":1}"), ("two objects", valid + valid), ("NaN", "{\"amount\":NaN}"), ("deep", new string('[', 100) + new string(']', 100)),
            ("deep object", string.Concat(Enumerable.Repeat("{\"a\":", 40)) + "1" + new string('}', 40)), ("bare key", "{amount:1}"),
            ("unterminated string", "{\"currency\":\"BRL}"), ("control char", "{\"description\":\"a\u0001b\"}"), ("garbage", "\u0000\u0001\u0002"),
            // Escapes of half a surrogate pair: valid JSON syntax, no character.
            ("lone high surrogate", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","description":"\ud800"}"""),
            ("lone low surrogate", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","description":"x\udc00y"}"""),
            ("high surrogate then letter", """{"amount":1,"currency":"BRL","payment_method":"pm_card_\ud800A"}"""),
            ("surrogate in a metadata key", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","metadata":{"\ud83d":"v"}}"""),
            ("surrogate in an unknown field", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","extra":["\udfff"]}"""),
        })
        {
            yield return Post("json: " + n, b);
        }

        // Wrong types and missing fields.
        foreach (var (n, b) in new[]
        {
            ("amount string", """{"amount":"1999","currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount float", """{"amount":19.99,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount exponent", """{"amount":1e3,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount bool", """{"amount":true,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount null", """{"amount":null,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount object", """{"amount":{},"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount missing", """{"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount zero", """{"amount":0,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount negative", """{"amount":-5,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount huge", """{"amount":100000000,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount overflow", """{"amount":99999999999999999999999,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("amount max long", """{"amount":9223372036854775807,"currency":"BRL","payment_method":"pm_card_visa"}"""),
            ("currency missing", """{"amount":1,"payment_method":"pm_card_visa"}"""),
            ("currency number", """{"amount":1,"currency":986,"payment_method":"pm_card_visa"}"""),
            ("currency long", """{"amount":1,"currency":"BRLX","payment_method":"pm_card_visa"}"""),
            ("currency unknown", """{"amount":1,"currency":"XYZ","payment_method":"pm_card_visa"}"""),
            ("currency other tenant's", """{"amount":1,"currency":"USD","payment_method":"pm_card_visa"}"""),
            ("currency empty", """{"amount":1,"currency":"","payment_method":"pm_card_visa"}"""),
            ("payment method missing", """{"amount":1,"currency":"BRL"}"""),
            ("payment method number", """{"amount":1,"currency":"BRL","payment_method":4242}"""),
            ("payment method empty", """{"amount":1,"currency":"BRL","payment_method":""}"""),
            ("card number", """{"amount":1,"currency":"BRL","payment_method":"4242424242424242"}"""),
            ("card number spaced", """{"amount":1,"currency":"BRL","payment_method":"4242 4242 4242 4242"}"""),
            ("card number dashed", """{"amount":1,"currency":"BRL","payment_method":"4000-0566-5566-5556"}"""),
            ("card number amex", """{"amount":1,"currency":"BRL","payment_method":"378282246310005"}"""),
            ("card number embedded", """{"amount":1,"currency":"BRL","payment_method":"pm_5555555555554444"}"""),
            ("payment method long", $$"""{"amount":1,"currency":"BRL","payment_method":"pm_{{new string('x', 300)}}"}"""),
            ("description long", $$"""{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","description":"{{new string('d', 1001)}}"}"""),
            ("description number", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","description":5}"""),
            ("customer object", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","customer":{}}"""),
            ("metadata array", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","metadata":[]}"""),
            ("metadata string", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","metadata":"x"}"""),
            ("metadata number value", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","metadata":{"a":1}}"""),
            ("metadata nested", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","metadata":{"a":{"b":"c"}}}"""),
            ("metadata long key", "{\"amount\":1,\"currency\":\"BRL\",\"payment_method\":\"pm_card_visa\",\"metadata\":{\"" + new string('k', 41) + "\":\"v\"}}"),
            ("metadata long value", "{\"amount\":1,\"currency\":\"BRL\",\"payment_method\":\"pm_card_visa\",\"metadata\":{\"k\":\"" + new string('v', 501) + "\"}}"),
            ("metadata 21 keys", "{\"amount\":1,\"currency\":\"BRL\",\"payment_method\":\"pm_card_visa\",\"metadata\":{" + string.Join(',', Enumerable.Range(0, 21).Select(i => $"\"k{i}\":\"v\"")) + "}}"),
            ("metadata empty key", """{"amount":1,"currency":"BRL","payment_method":"pm_card_visa","metadata":{"":"v"}}"""),
        })
        {
            yield return Post(n, b);
        }

        // Size, encoding, content type.
        yield return Post("1 MiB body", "{\"description\":\"" + new string('a', 1024 * 1024) + "\"}");
        yield return Post("65 KiB body", "{\"amount\":1,\"currency\":\"BRL\",\"payment_method\":\"pm_card_visa\",\"x\":\"" + new string('a', 65 * 1024) + "\"}");
        yield return new Bad("invalid UTF-8", HttpMethod.Post, "/v1/charges", [.. "{\"description\":\""u8, 0xC3, 0x28, 0xFF, .. "\",\"amount\":1}"u8], "application/json", key);
        yield return new Bad("overlong UTF-8", HttpMethod.Post, "/v1/charges", [.. "{\"currency\":\""u8, 0xC0, 0xAF, .. "\"}"u8], "application/json", key);
        yield return Post("text/plain", valid, "text/plain");
        yield return Post("form", "amount=1", "application/x-www-form-urlencoded");
        yield return Post("xml", "<charge/>", "application/xml");
        yield return Post("no content type", valid, null);
        yield return Post("json charset latin1", valid, "application/json; charset=iso-8859-1");

        // Idempotency-Key.
        yield return Post("key empty", valid, headers: new() { ["Idempotency-Key"] = "" });
        yield return Post("key 256 chars", valid, headers: new() { ["Idempotency-Key"] = new string('k', 256) });
        yield return Post("key non-ascii", valid, headers: new() { ["Idempotency-Key"] = "clé-ü" });
        yield return Post("key tab", valid, headers: new() { ["Idempotency-Key"] = "a\tb" });

        // Authorization.
        foreach (var (n, a) in new[]
        {
            ("no auth", (string?)null), ("empty bearer", ""), ("basic", "Basic dXNlcjpwYXNz"), ("bearer only", "Bearer"), ("bearer spaces", "Bearer    "),
            ("unknown key", "Bearer fc_sk_" + new string('A', 43)), ("wrong prefix", "Bearer sk_live_" + new string('A', 43)),
            ("short key", "Bearer fc_sk_abc"), ("key with symbols", "Bearer fc_sk_" + new string('!', 43)), ("admin token on tenant route", "Bearer " + PaymentsCluster.AdminToken),
            ("huge token", "Bearer " + new string('x', 5000)), ("two schemes", "Bearer a, Bearer b"),
        })
        {
            yield return new Bad("auth: " + n, HttpMethod.Post, "/v1/charges", Encoding.UTF8.GetBytes(valid), "application/json", null,
                a is null ? null : new() { ["Authorization"] = a });
        }

        yield return new Bad("admin: tenant key", HttpMethod.Post, "/admin/v1/tenants", Encoding.UTF8.GetBytes("""{"name":"x","currency":"BRL"}"""), "application/json", key);
        yield return new Bad("admin: no token", HttpMethod.Get, "/admin/v1/cluster", null, null, null);
        yield return new Bad("admin: wrong token", HttpMethod.Get, "/admin/v1/cluster", null, null, "not-the-admin-token-at-all");
        foreach (var (n, b) in new[]
        {
            ("admin tenant no name", """{"currency":"BRL"}"""), ("admin tenant bad currency", """{"name":"x","currency":"bitcoin"}"""),
            ("admin tenant limits string", """{"name":"x","currency":"BRL","limits":"fast"}"""), ("admin tenant negative limit", """{"name":"x","currency":"BRL","limits":{"max_amount":-1}}"""),
            ("admin tenant long name", $$"""{"name":"{{new string('n', 201)}}","currency":"BRL"}"""),
        })
        {
            yield return new Bad(n, HttpMethod.Post, "/admin/v1/tenants", Encoding.UTF8.GetBytes(b), "application/json", PaymentsCluster.AdminToken);
        }

        yield return new Bad("admin: revoke unknown key", HttpMethod.Delete, "/admin/v1/tenants/ten_000000000000000000/api-keys/key_00000000000000000", null, null, PaymentsCluster.AdminToken);
        yield return new Bad("admin: verify without tenant", HttpMethod.Get, "/admin/v1/audit/verify", null, null, PaymentsCluster.AdminToken);
        yield return new Bad("admin: verify bad tenant", HttpMethod.Get, "/admin/v1/audit/verify?tenant=../../etc", null, null, PaymentsCluster.AdminToken);

        // Query parameters.
        foreach (var q in new[]
        {
            "limit=0", "limit=101", "limit=-1", "limit=abc", "limit=1.5", "limit=99999999999", "status=paid", "status=", "starting_after=xyz",
            "starting_after=ch_doesnotexist", $"starting_after={otherTenantCharge}", "created_gte=yesterday", "created_lt=2026-13-01T00:00:00Z", "created_gte=1e9",
            "starting_after=ch_%27%20OR%201=1--",
        })
        {
            yield return new Bad("query: " + q, HttpMethod.Get, "/v1/charges?" + q, null, null, key);
        }

        foreach (var q in new[] { "", "from=2026-11-01", "from=2026-11-22&to=2026-11-01", "from=2020-01-01&to=2026-01-01", "from=11/01/2026&to=2026-11-22", "from=2026-11-01&to=tomorrow" })
        {
            yield return new Bad("report: " + q, HttpMethod.Get, "/v1/reports/summary?" + q, null, null, key);
            yield return new Bad("statement: " + q, HttpMethod.Get, "/v1/reports/statement?" + q, null, null, key);
        }

        // Unknown ids, routes and methods.
        foreach (var path in new[] { "/v1/charges/ch_unknown", "/v1/charges/nonsense", $"/v1/charges/{otherTenantCharge}", "/v1/charges/ch_x%20y", "/v1/nope", "/v2/charges", "/", "/admin", "/v1/charges/ch_1/refund" })
        {
            yield return new Bad("get " + path, HttpMethod.Get, path, null, null, key);
        }

        yield return new Bad("cancel unknown", HttpMethod.Post, "/v1/charges/ch_unknown/cancel", null, null, key);
        yield return new Bad("cancel other tenant's", HttpMethod.Post, $"/v1/charges/{otherTenantCharge}/cancel", null, null, key);
        yield return new Bad("events of other tenant's", HttpMethod.Get, $"/v1/charges/{otherTenantCharge}/events", null, null, key);
        yield return new Bad("DELETE charges", HttpMethod.Delete, "/v1/charges", null, null, key);
        yield return new Bad("PUT charge", HttpMethod.Put, "/v1/charges/ch_1", Encoding.UTF8.GetBytes("{}"), "application/json", key);
        yield return new Bad("PATCH tenant", HttpMethod.Patch, "/v1/tenant", Encoding.UTF8.GetBytes("{}"), "application/json", key);
        yield return new Bad("webhook not https", HttpMethod.Put, "/v1/tenant/webhook", Encoding.UTF8.GetBytes("""{"url":"http://example.com/x"}"""), "application/json", key);
        yield return new Bad("webhook not url", HttpMethod.Put, "/v1/tenant/webhook", Encoding.UTF8.GetBytes("""{"url":"hooks"}"""), "application/json", key);
        yield return new Bad("webhook credentials", HttpMethod.Put, "/v1/tenant/webhook", Encoding.UTF8.GetBytes("""{"url":"https://u:p@example.com/x"}"""), "application/json", key);
        yield return new Bad("webhook missing", HttpMethod.Put, "/v1/tenant/webhook", Encoding.UTF8.GetBytes("{}"), "application/json", key);
    }

    [Fact]
    public async Task More_than_100_bad_requests_each_get_a_4xx_problem_and_change_nothing()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        var (_, otherKey) = await fincore.CreateTenantAsync();
        var otherCharge = (await fincore.Http.PostAsync("/v1/charges", otherKey, Api.Charge())).Json.GetProperty("id").GetString()!;
        var corpus = Corpus(key, otherCharge).ToList();
        Assert.True(corpus.Count >= 100, $"only {corpus.Count} cases");

        const string Snapshot = """
            SELECT (SELECT count(*) FROM charges) * 1000000 + (SELECT count(*) FROM events) * 1000 + (SELECT count(*) FROM tenants)
                   + (SELECT count(*) FROM api_keys) * 100000000 + (SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL) * 10000000000
            """;
        var before = await fincore.ScalarAsync(Snapshot);
        var failures = new List<string>();
        // A client that sends header bytes as UTF-8, as a hostile one would.
        using var raw = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => Encoding.UTF8 }) { BaseAddress = fincore.Http.BaseAddress };
        foreach (var bad in corpus)
        {
            using var request = new HttpRequestMessage(bad.Method, bad.Path);
            if (bad.Body is not null)
            {
                request.Content = new ByteArrayContent(bad.Body);
                request.Content.Headers.ContentType = bad.ContentType is null ? null : MediaTypeHeaderValue.Parse(bad.ContentType);
            }

            if (bad.Auth is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bad.Auth);
            }

            foreach (var (k, v) in bad.Headers ?? [])
            {
                request.Headers.TryAddWithoutValidation(k, v);
            }

            HttpResponseMessage response;
            try
            {
                response = await raw.SendAsync(request);
            }
            catch (HttpRequestException e)
            {
                failures.Add($"{bad.Name}: no response ({e.Message})");
                continue;
            }

            using var _ = response;
            var status = (int)response.StatusCode;
            var body = await response.Content.ReadAsStringAsync();
            var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json" && body.Contains("\"code\"", StringComparison.Ordinal);
            if (status is < 400 or >= 500 || !problem || !response.Headers.Contains("Request-Id"))
            {
                failures.Add($"{bad.Name}: {status} {body[..Math.Min(body.Length, 200)]}");
            }
            else
            {
                output.WriteLine($"{status} {bad.Name}");
            }
        }

        Assert.Empty(failures);
        Assert.Equal(before, await fincore.ScalarAsync(Snapshot));
    }

    [Fact]
    public async Task A_body_sent_chunked_without_a_content_length_is_read_like_any_other()
    {
        var (_, key) = await fincore.CreateTenantAsync();
        async Task<(int Status, string Body)> PostChunkedAsync(string json)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/charges") { Content = new ChunkedContent(Encoding.UTF8.GetBytes(json)) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
            using var response = await fincore.Http.SendAsync(request);
            Assert.Null(request.Content.Headers.ContentLength); // sent chunked
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var accepted = await PostChunkedAsync(Api.Charge(amount: 4242));
        Assert.True(accepted.Status == 202, accepted.Body);
        Assert.Contains("\"amount\":4242", accepted.Body, StringComparison.Ordinal);

        var tooLarge = await PostChunkedAsync("{\"description\":\"" + new string('a', 70 * 1024) + "\"}");
        Assert.True(tooLarge.Status == 413, tooLarge.Body);
        Assert.Contains("payload_too_large", tooLarge.Body, StringComparison.Ordinal);

        var truncated = await PostChunkedAsync(Api.Charge()[..20]);
        Assert.True(truncated.Status == 400, truncated.Body);
    }

    /// <summary>A body whose length is not known in advance: HttpClient sends it with Transfer-Encoding: chunked.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            for (var i = 0; i < bytes.Length; i += 1000)
            {
                await stream.WriteAsync(bytes.AsMemory(i, Math.Min(1000, bytes.Length - i)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
