using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace FinCore.Grains.Psp;

public enum PspResultKind
{
    Captured,
    Declined,
    Pending,
    /// <summary>Certainly not captured by this request (5xx, 429, refused, circuit open): safe to send again.</summary>
    Retryable,
    /// <summary>Sent, no answer (timeout, connection lost): the PSP may have captured. Ask before sending again.</summary>
    Unknown,
    /// <summary>A query found no payment under the key.</summary>
    NotFound,
    /// <summary>A refund the PSP made (final).</summary>
    Refunded,
    /// <summary>A refund the PSP refused (final; <see cref="PspCallResult.DeclineCode"/> says why).</summary>
    RefundFailed,
}

/// <summary>One PSP call's outcome.</summary>
/// <param name="Kind">What it means for the charge.</param>
/// <param name="Reference">The PSP's reference, when it has one.</param>
/// <param name="DeclineCode">Why it declined.</param>
/// <param name="Error">What went wrong, for a retryable or unknown outcome.</param>
/// <param name="CircuitOpen">Refused by the silo's open circuit: nothing was sent, and the PSP is known to be failing.</param>
public sealed record PspCallResult(PspResultKind Kind, string? Reference = null, string? DeclineCode = null, string? Error = null, bool CircuitOpen = false)
{
    /// <summary>The charge's outcome of a final answer (<see cref="PspResultKind.Captured"/> or <see cref="PspResultKind.Declined"/>).</summary>
    public PspOutcome ToOutcome() => new(Kind == PspResultKind.Captured ? "captured" : "declined", Reference, DeclineCode);
}

/// <summary>The PSP answered with a status that means "not processed, try again" (5xx, 429).</summary>
internal sealed class PspUnavailableException(string message) : Exception(message);

/// <summary>The resilience pipeline for the PSP: a per-attempt timeout inside a circuit breaker. One per silo
/// (a singleton), so the breaker sees every grain's attempts and opens for the PSP as a whole.</summary>
public sealed class PspPipeline
{
    private readonly CircuitBreakerStateProvider _circuit = new();

    public PspPipeline(IOptions<PspOptions> options)
    {
        Pipeline = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 20,
                SamplingDuration = TimeSpan.FromSeconds(10),
                BreakDuration = TimeSpan.FromSeconds(2),
                ShouldHandle = new PredicateBuilder().Handle<HttpRequestException>().Handle<TimeoutRejectedException>().Handle<PspUnavailableException>(),
                StateProvider = _circuit,
                OnClosed = _ =>
                {
                    Closed?.Invoke();
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(options.Value.AttemptTimeout)
            .Build();
    }

    public ResiliencePipeline Pipeline { get; }

    /// <summary>The circuit is closed: calls go to the PSP.</summary>
    public bool IsClosed => _circuit.CircuitState == CircuitState.Closed;

    /// <summary>Raised when the circuit closes again after an outage (a trial call succeeded).</summary>
    public event Action? Closed;
}

/// <summary>Calls the PSP through the silo's <see cref="PspPipeline"/>, so a PSP outage stops costing a timeout per
/// charge once the breaker opens.</summary>
public sealed class PspClient
{
    private readonly HttpClient _http;
    private readonly ResiliencePipeline _pipeline;
    private readonly bool _configured;

    public PspClient(HttpClient http, PspPipeline pipeline, IOptions<PspOptions> options)
    {
        _http = http;
        _configured = Uri.TryCreate(options.Value.Url, UriKind.Absolute, out var url);
        if (_configured)
        {
            _http.BaseAddress = new Uri(url!.ToString().TrimEnd('/') + "/");
        }

        _http.Timeout = Timeout.InfiniteTimeSpan; // the pipeline's timeout rules
        _pipeline = pipeline.Pipeline;
    }

    public Task<PspCallResult> ChargeAsync(PspPayment payment, CancellationToken ct) => TracedAsync("charge", () =>
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/payments")
        {
            Content = JsonContent.Create(new { amount = payment.Amount, currency = payment.Currency, payment_method = payment.PaymentMethod }),
        };
        request.Headers.Add("Idempotency-Key", payment.ChargeId);
        return request;
    }, ct);

    /// <summary>Asks the PSP to give back part of a captured payment; the refund id is the idempotency key.</summary>
    public Task<PspCallResult> RefundAsync(PspRefund refund, CancellationToken ct) => TracedAsync("refund", () =>
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/refunds")
        {
            Content = JsonContent.Create(new { payment = refund.ChargeId, amount = refund.Amount }),
        };
        request.Headers.Add("Idempotency-Key", refund.RefundId);
        return request;
    }, ct);

    public Task<PspCallResult> QueryAsync(string chargeId, CancellationToken ct) =>
        TracedAsync("query", () => new HttpRequestMessage(HttpMethod.Get, "v1/payments/" + Uri.EscapeDataString(chargeId)), ct);

    /// <summary>One call, as a client span and in the PSP outcome and latency metrics.</summary>
    private async Task<PspCallResult> TracedAsync(string what, Func<HttpRequestMessage> build, CancellationToken ct)
    {
        using var span = PaymentsTelemetry.Source.StartActivity("psp " + what, ActivityKind.Client);
        var started = Stopwatch.GetTimestamp();
        var result = await SendAsync(build, ct);
        var outcome = result.Kind.ToString().ToLowerInvariant();
        span?.SetTag("fincore.psp_outcome", outcome);
        if (result.Kind is PspResultKind.Retryable or PspResultKind.Unknown)
        {
            span?.SetStatus(ActivityStatusCode.Error, result.Error);
        }

        PaymentsMetrics.PspCall(what + "." + outcome, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }

    private async Task<PspCallResult> SendAsync(Func<HttpRequestMessage> build, CancellationToken ct)
    {
        if (!_configured)
        {
            return new PspCallResult(PspResultKind.Retryable, Error: "FINCORE_PSP_URL is not configured on this silo");
        }

        var sent = false;
        try
        {
            return await _pipeline.ExecuteAsync(async token =>
            {
                using var request = build();
                sent = true;
                using var response = await _http.SendAsync(request, token);
                if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    throw new PspUnavailableException($"PSP answered {(int)response.StatusCode}");
                }

                if (response.StatusCode == HttpStatusCode.NotFound)
                {
                    return new PspCallResult(PspResultKind.NotFound);
                }

                using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(token));
                var root = doc.RootElement;
                var reference = root.TryGetProperty("reference", out var r) ? r.GetString() : null;
                var status = root.TryGetProperty("status", out var s) ? s.GetString() : null;
                return status switch
                {
                    "captured" => new PspCallResult(PspResultKind.Captured, reference),
                    "declined" => new PspCallResult(PspResultKind.Declined, reference, root.TryGetProperty("decline_code", out var d) ? d.GetString() : "card_declined"),
                    "pending" => new PspCallResult(PspResultKind.Pending, reference),
                    "refunded" => new PspCallResult(PspResultKind.Refunded, reference),
                    "failed" => new PspCallResult(PspResultKind.RefundFailed, reference, root.TryGetProperty("failure_code", out var f) ? f.GetString() : "refund_failed"),
                    _ => new PspCallResult(PspResultKind.Retryable, Error: $"PSP answered {(int)response.StatusCode} with status '{status}'"),
                };
            }, ct);
        }
        catch (BrokenCircuitException)
        {
            return new PspCallResult(PspResultKind.Retryable, Error: "PSP circuit open", CircuitOpen: true);
        }
        catch (PspUnavailableException e)
        {
            return new PspCallResult(PspResultKind.Retryable, Error: e.Message);
        }
        catch (TimeoutRejectedException)
        {
            return new PspCallResult(PspResultKind.Unknown, Error: "PSP did not answer in time");
        }
        catch (HttpRequestException e) when (e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused })
        {
            return new PspCallResult(PspResultKind.Retryable, Error: "PSP refused the connection");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException)
        {
            return new PspCallResult(sent ? PspResultKind.Unknown : PspResultKind.Retryable, Error: $"PSP call failed: {e.Message}");
        }
    }
}
