using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FinCore.LoadGen.Engine;

namespace FinCore.LoadGen.Workloads;

/// <summary>
/// The FinCore HTTP API as LoadGen drives it (only what API.md promises): tenants set up from a key or created
/// with the operator token, and one method per operation. Each of <c>--connections</c> handlers holds one socket.
/// </summary>
internal sealed class FinCoreApi : IDisposable
{
    private readonly HttpMessageInvoker[] clients;
    private readonly Uri target;
    private readonly Version version;
    private readonly Uri pingUri;
    private readonly Uri listUri;
    private readonly Uri createUri;
    private readonly string chargesBase;
    private readonly Uri transfersUri;
    private readonly double hotShare;

    /// <summary><c>--record-accepted</c>: transfers and refunds acknowledged are recorded too (their ids read from the body).</summary>
    private readonly bool recordAll;
    private readonly string runId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4));
    private long sequence;
    private long transfersAcknowledged;

    /// <summary>Transfers answered <c>201</c> so far.</summary>
    public long TransfersAcknowledged => Interlocked.Read(ref transfersAcknowledged);

    private FinCoreApi(RunSettings settings, IReadOnlyList<TenantContext> tenants)
    {
        target = settings.Target;
        Tenants = tenants;
        pingUri = new Uri(target, settings.PingPath);
        listUri = new Uri(target, "/v1/charges?limit=10");
        createUri = new Uri(target, "/v1/charges");
        chargesBase = new Uri(target, "/v1/charges/").AbsoluteUri;
        transfersUri = new Uri(target, "/v1/transfers");
        hotShare = settings.HotShare;
        recordAll = settings.RecordAccepted is not null;
        version = settings.Http2 ? HttpVersion.Version20 : HttpVersion.Version11;
        // One handler per connection: a worker's requests go to its own socket (no shared pool lock), and with
        // HTTP/2 each handler's single connection multiplexes the streams of the workers mapped to it.
        clients = new HttpMessageInvoker[settings.Connections];
        for (var i = 0; i < clients.Length; i++)
        {
            clients[i] = new HttpMessageInvoker(CreateHandler(1));
        }
    }

    public IReadOnlyList<TenantContext> Tenants { get; }

    /// <summary>Checks the target and prepares the tenants: the given key's tenant, or N new ones via the operator API.</summary>
    public static async Task<FinCoreApi> ConnectAsync(RunSettings settings, Action<string> log, CancellationToken ct)
    {
        using var setup = new HttpClient { BaseAddress = settings.Target, Timeout = TimeSpan.FromSeconds(30) };
        var tenants = new List<TenantContext>();
        if (settings.Mix.Weights.Keys.All(op => op == Operation.Ping))
        {
            tenants.Add(new TenantContext("none", "", "EUR"));
        }
        else if (settings.ApiKey is not null)
        {
            using var req = new HttpRequestMessage(HttpMethod.Get, "/v1/tenant");
            req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.ApiKey);
            using var res = await setup.SendAsync(req, ct).ConfigureAwait(false);
            var body = await res.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            if (!res.IsSuccessStatusCode)
            {
                throw new SetupException($"GET /v1/tenant with the API key answered {(int)res.StatusCode}: {Trim(body)}");
            }

            using var doc = JsonDocument.Parse(body);
            var id = doc.RootElement.TryGetProperty("id", out var i) ? i.GetString() ?? "tenant" : "tenant";
            var currency = doc.RootElement.TryGetProperty("currency", out var c) ? c.GetString() ?? "EUR" : "EUR";
            tenants.Add(new TenantContext(id, settings.ApiKey, currency));
        }
        else
        {
            for (var n = 0; n < settings.Tenants; n++)
            {
                using var req = new HttpRequestMessage(HttpMethod.Post, "/admin/v1/tenants")
                {
                    Content = new StringContent(
                        $$$"""{"name":"loadgen-{{{DateTime.UtcNow:yyyyMMddHHmmss}}}-{{{n + 1}}}","currency":"EUR","limits":{"max_amount":99999999,"requests_per_second":1000000,"velocity_per_customer":1000000,"velocity_per_payment_method":1000000}}""",
                        Encoding.UTF8,
                        "application/json"),
                };
                req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.AdminToken);
                using var res = await setup.SendAsync(req, ct).ConfigureAwait(false);
                var body = await res.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if (res.StatusCode != HttpStatusCode.Created)
                {
                    throw new SetupException($"POST /admin/v1/tenants answered {(int)res.StatusCode}: {Trim(body)}");
                }

                using var doc = JsonDocument.Parse(body);
                tenants.Add(new TenantContext(doc.RootElement.GetProperty("id").GetString()!, doc.RootElement.GetProperty("api_key").GetString()!, "EUR"));
            }

            log($"created {tenants.Count} tenants through the operator API");
        }

        if (settings.Mix.Weights.ContainsKey(Operation.Transfer) || settings.Mix.Weights.ContainsKey(Operation.Refund))
        {
            await Task.WhenAll(tenants.Select(t => PrepareAccountsAsync(setup, t, settings.Accounts, ct))).ConfigureAwait(false);
            log($"opened and funded {settings.Accounts} accounts and a merchant per tenant for transfers and refunds");
        }

        return new FinCoreApi(settings, tenants);
    }

    /// <summary>Each tenant's payers (individuals) and merchant, the payers funded by a charge each (through the PSP),
    /// waited for until every balance shows it.</summary>
    private static async Task PrepareAccountsAsync(HttpClient setup, TenantContext tenant, int accounts, CancellationToken ct)
    {
        const long Funding = 1_000_000; // the default per-charge limit of a tenant
        var setupId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().AsSpan(0, 4));
        async Task<JsonElement> PostAsync(string path, string body, string key, HttpStatusCode expected)
        {
            for (var attempt = 0; ; attempt++)
            {
                using var req = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
                req.Headers.TryAddWithoutValidation("Idempotency-Key", key);
                using var res = await setup.SendAsync(req, ct).ConfigureAwait(false);
                var text = await res.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                if (res.StatusCode == expected)
                {
                    using var doc = JsonDocument.Parse(text);
                    return doc.RootElement.Clone();
                }

                if ((int)res.StatusCode is not (429 or 503) || attempt >= 20)
                {
                    throw new SetupException($"POST {path} answered {(int)res.StatusCode}: {Trim(text)}");
                }

                await Task.Delay(250, ct).ConfigureAwait(false);
            }
        }

        var merchant = await PostAsync("/v1/customers",
            """{"kind":"merchant","name":"LoadGen merchant","email":"merchant@loadgen.example","document":"11222333000181"}""",
            $"lg-{setupId}-merchant", HttpStatusCode.Created).ConfigureAwait(false);
        tenant.Merchant = merchant.GetProperty("account").GetString();
        tenant.MerchantCustomer = merchant.GetProperty("id").GetString();
        var payers = new string[accounts];
        var customers = new string[accounts];
        var funding = new string[accounts];
        await Parallel.ForAsync(0, accounts, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, c) =>
        {
            var payer = await PostAsync("/v1/customers",
                $$$"""{"kind":"individual","name":"LoadGen payer {{{i}}}","email":"payer{{{i}}}@loadgen.example","document":"52998224725"}""",
                $"lg-{setupId}-payer-{i}", HttpStatusCode.Created).ConfigureAwait(false);
            payers[i] = payer.GetProperty("account").GetString()!;
            customers[i] = payer.GetProperty("id").GetString()!;
            funding[i] = (await PostAsync("/v1/charges",
                $$$"""{"amount":{{{Funding}}},"currency":"{{{tenant.Currency}}}","payment_method":"pm_card_visa","account":"{{{payers[i]}}}","description":"loadgen funding"}""",
                $"lg-{setupId}-fund-{i}", HttpStatusCode.Accepted).ConfigureAwait(false)).GetProperty("id").GetString()!;
        }).ConfigureAwait(false);

        // The charges succeed through the PSP: wait until every account has its funding.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        foreach (var account in payers)
        {
            while (true)
            {
                using var req = new HttpRequestMessage(HttpMethod.Get, "/v1/accounts/" + account);
                req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tenant.ApiKey);
                using var res = await setup.SendAsync(req, ct).ConfigureAwait(false);
                using var doc = JsonDocument.Parse(await res.Content.ReadAsStringAsync(ct).ConfigureAwait(false));
                if (res.IsSuccessStatusCode && doc.RootElement.GetProperty("balance").GetInt64() >= Funding)
                {
                    break;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new SetupException($"account {account} was not funded within 2 minutes (its charge did not succeed)");
                }

                await Task.Delay(200, ct).ConfigureAwait(false);
            }
        }

        tenant.Accounts = payers;
        tenant.Customers = customers;
        tenant.FundingCharges = funding;
    }

    /// <summary>Sends one request of <paramref name="op"/>; <paramref name="ct"/> times it out, <paramref name="runToken"/> ends the run.</summary>
    public async ValueTask<Outcome> ExecuteAsync(int worker, Operation op, CancellationToken ct, CancellationToken runToken)
    {
        var tenant = Tenants.Count == 1 ? Tenants[0] : Tenants[Random.Shared.Next(Tenants.Count)];
        string? id = null;
        if (op is Operation.Get or Operation.Cancel)
        {
            id = tenant.Recent.Pick();
            if (id is null)
            {
                // Nothing created yet to read: create instead, so every scheduled arrival still sends a request.
                op = Operation.Create;
            }
        }

        using var request = op switch
        {
            Operation.Create => CreateRequest(tenant),
            Operation.Transfer => TransferRequest(tenant),
            Operation.Refund => RefundRequest(tenant),
            Operation.Get => new HttpRequestMessage(HttpMethod.Get, new Uri(chargesBase + id)),
            Operation.Cancel => new HttpRequestMessage(HttpMethod.Post, new Uri(chargesBase + id + "/cancel")),
            Operation.List => new HttpRequestMessage(HttpMethod.Get, listUri),
            _ => new HttpRequestMessage(HttpMethod.Get, pingUri),
        };
        request.Version = version;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        if (op != Operation.Ping)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + tenant.ApiKey);
        }

        try
        {
            using var response = await clients[worker % clients.Length].SendAsync(request, ct).ConfigureAwait(false);
            var code = (int)response.StatusCode;
            AcceptedCharge? accepted = null;
            if (op == Operation.Create && code == 202)
            {
                var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
                var (newId, createdAt) = ReadIdAndCreated(body);
                if (newId is not null)
                {
                    tenant.Recent.Add(newId);
                    accepted = new AcceptedCharge(tenant, newId, System.Diagnostics.Stopwatch.GetTimestamp(), createdAt);
                }
            }
            else if (op == Operation.Transfer && code == 201 && !recordAll)
            {
                Interlocked.Increment(ref transfersAcknowledged);
                await response.Content.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
            }
            else if (recordAll && ((op == Operation.Transfer && code == 201) || (op == Operation.Refund && code == 202)))
            {
                // Recorded for whoever checks afterwards that every acknowledged transfer and refund exists.
                if (op == Operation.Transfer)
                {
                    Interlocked.Increment(ref transfersAcknowledged);
                }

                var (newId, _) = ReadIdAndCreated(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
                if (newId is not null)
                {
                    accepted = new AcceptedCharge(tenant, newId, System.Diagnostics.Stopwatch.GetTimestamp(), Tracked: false);
                }
            }
            else
            {
                await response.Content.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
            }

            // A cancel of a charge that already moved on is the API working as specified.
            var isError = code >= 400 && !(op == Operation.Cancel && code == 409);
            return new Outcome(code, "", isError, accepted);
        }
        catch (OperationCanceledException) when (!runToken.IsCancellationRequested)
        {
            return new Outcome(0, "timeout", true);
        }
        catch (HttpRequestException e) when (e.InnerException is SocketException || e.HttpRequestError == HttpRequestError.ConnectionError)
        {
            return new Outcome(0, "connect", true);
        }
        catch (HttpRequestException)
        {
            return new Outcome(0, "http_error", true);
        }
        catch (IOException)
        {
            return new Outcome(0, "io_error", true);
        }
    }

    /// <summary>Reads one charge (for completion tracking): its status and server timestamps, or null when unreadable.</summary>
    public Task<ChargeView?> ReadChargeAsync(TenantContext tenant, string id, CancellationToken ct) =>
        GetJsonAsync(tenant, new Uri(chargesBase + id), ReadView, ct);

    /// <summary>One page of the tenant's charges created in [<paramref name="from"/>, <paramref name="until"/>), newest
    /// first (API.md's list), after <paramref name="startingAfter"/>; null when the page could not be read.</summary>
    public Task<ChargePage?> ListChargesAsync(TenantContext tenant, DateTimeOffset from, DateTimeOffset until, string? startingAfter, CancellationToken ct)
    {
        var uri = $"{chargesBase.TrimEnd('/')}?limit=100&created_gte={Rfc3339(from)}&created_lt={Rfc3339(until)}"
            + (startingAfter is null ? "" : "&starting_after=" + Uri.EscapeDataString(startingAfter));
        return GetJsonAsync(tenant, new Uri(uri), root => new ChargePage(
            root.GetProperty("data").EnumerateArray().Select(c => (c.GetProperty("id").GetString()!, ReadView(c))).ToList(),
            root.GetProperty("has_more").GetBoolean()), ct);
    }

    /// <summary>A GET as the tenant, its JSON body read by <paramref name="read"/>; null on any failure (tracking
    /// tries again later).</summary>
    private async Task<T?> GetJsonAsync<T>(TenantContext tenant, Uri uri, Func<JsonElement, T> read, CancellationToken ct) where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + tenant.ApiKey);
        try
        {
            using var response = await clients[0].SendAsync(request, ct).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await response.Content.CopyToAsync(Stream.Null, ct).ConfigureAwait(false);
                return null;
            }

            using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false));
            return read(doc.RootElement);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or KeyNotFoundException or FormatException or InvalidOperationException || (e is OperationCanceledException && !ct.IsCancellationRequested))
        {
            return null;
        }
    }

    /// <summary>To the microsecond (PostgreSQL's precision), in UTC.</summary>
    private static string Rfc3339(DateTimeOffset t) =>
        Uri.EscapeDataString(new DateTime(t.UtcTicks - t.UtcTicks % 10, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture));

    private static ChargeView ReadView(JsonElement c) => new(
        c.GetProperty("status").GetString() ?? "",
        c.GetProperty("created_at").GetDateTimeOffset(),
        c.GetProperty("updated_at").GetDateTimeOffset());

    public void Dispose()
    {
        foreach (var c in clients)
        {
            c.Dispose();
        }
    }

    private HttpRequestMessage CreateRequest(TenantContext tenant)
    {
        var n = Interlocked.Increment(ref sequence);
        var amount = 100 + Random.Shared.Next(99_900);
        var body = $$$"""{"amount":{{{amount}}},"currency":"{{{tenant.Currency}}}","payment_method":"pm_lg_{{{n % 5000}}}","customer":"cus_lg_{{{n % 10000}}}","description":"loadgen {{{runId}}}","metadata":{"loadgen_run":"{{{runId}}}"}}""";
        var request = new HttpRequestMessage(HttpMethod.Post, createUri)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", $"lg-{runId}-{n}");
        return request;
    }

    /// <summary>From one of the tenant's payers to the merchant (<c>--hot-share</c> of them) or to another payer.</summary>
    private HttpRequestMessage TransferRequest(TenantContext tenant)
    {
        var n = Interlocked.Increment(ref sequence);
        var accounts = tenant.Accounts;
        var from = Random.Shared.Next(accounts.Length);
        var to = Random.Shared.NextDouble() < hotShare ? tenant.Merchant! : accounts[(from + 1 + Random.Shared.Next(accounts.Length - 1)) % accounts.Length];
        var body = $$$"""{"from":"{{{accounts[from]}}}","to":"{{{to}}}","amount":{{{1 + Random.Shared.Next(1000)}}},"description":"loadgen {{{runId}}}"}""";
        var request = new HttpRequestMessage(HttpMethod.Post, transfersUri) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", $"lg-{runId}-{n}");
        return request;
    }

    /// <summary>A small partial refund of one of the tenant's funding charges (each of 1,000,000: refunds of at most 100
    /// never use one up in a run).</summary>
    private HttpRequestMessage RefundRequest(TenantContext tenant)
    {
        var n = Interlocked.Increment(ref sequence);
        var charge = tenant.FundingCharges[Random.Shared.Next(tenant.FundingCharges.Length)];
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(chargesBase + charge + "/refunds"))
        {
            Content = new StringContent($$$"""{"amount":{{{1 + Random.Shared.Next(100)}}}}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", $"lg-{runId}-{n}");
        return request;
    }

    private static (string? Id, DateTimeOffset? CreatedAt) ReadIdAndCreated(byte[] body)
    {
        string? id = null;
        DateTimeOffset? createdAt = null;
        try
        {
            var reader = new Utf8JsonReader(body);
            while (reader.Read() && (id is null || createdAt is null))
            {
                if (reader.TokenType != JsonTokenType.PropertyName || reader.CurrentDepth != 1)
                {
                    continue;
                }

                if (reader.ValueTextEquals("id"u8))
                {
                    reader.Read();
                    id = reader.GetString();
                }
                else if (reader.ValueTextEquals("created_at"u8))
                {
                    reader.Read();
                    createdAt = reader.TryGetDateTimeOffset(out var t) ? t : null;
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
        }

        return (id, createdAt);
    }

    private static SocketsHttpHandler CreateHandler(int connections) => new()
    {
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ResponseDrainTimeout = TimeSpan.FromSeconds(2),
        UseCookies = false,
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
    };

    private static string Trim(string body) => body.Length > 300 ? body[..300] + "…" : body;
}

/// <summary>A charge as completion tracking reads it.</summary>
internal sealed record ChargeView(string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public bool IsTerminal => Status is "succeeded" or "failed" or "canceled" or "dead_lettered";
}

/// <summary>A page of a charge listing.</summary>
internal sealed record ChargePage(IReadOnlyList<(string Id, ChargeView View)> Rows, bool HasMore);

/// <summary>The target refused the run's setup (bad key, bad operator token, unreachable).</summary>
internal sealed class SetupException(string message) : Exception(message);
