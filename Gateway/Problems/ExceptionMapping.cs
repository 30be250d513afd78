using System.Net.Sockets;
using FinCore.Grains;
using FinCore.Cluster;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace FinCore.Gateway.Problems;

/// <summary>The one place that turns domain, grain and infrastructure exceptions into problem responses. A storage
/// or cluster outage is 503 with Retry-After (nothing was accepted); anything unforeseen is a 500 and logged.</summary>
internal sealed partial class ExceptionMapping(ILogger<ExceptionMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        var (status, code, detail) = Map(exception);
        if (status == 503)
        {
            http.Response.Headers.RetryAfter = "1";
            Unavailable(logger, exception.GetType().Name, exception.Message);
        }
        else if (status >= 500)
        {
            Unexpected(logger, exception);
        }

        await ProblemResults.WriteAsync(http, status, code, detail);
        return true;
    }

    private static readonly (int, string, string) StorageUnavailable = (503, "unavailable", "Storage is unreachable; nothing was accepted. Retry later.");
    private static readonly (int, string, string) StorageOrClusterUnavailable = (503, "unavailable", "Storage or cluster is unreachable; nothing was accepted. Retry later.");

    internal static (int Status, string Code, string Detail) Map(Exception e) => e switch
    {
        ChargeNotFoundException => (404, "not_found", "No such charge."),
        TenantNotFoundException => (404, "not_found", "No such tenant."),
        CustomerNotFoundException => (404, "not_found", "No such customer."),
        AccountNotFoundException => (404, "not_found", e.Message + "."),
        InvalidTransferException => (400, "invalid_request", e.Message + "."),
        ApiKeyNotFoundException => (404, "not_found", "No such API key."),
        InvalidChargeStateException => (409, "invalid_state", e.Message),
        CustomerStateException => (409, "invalid_state", e.Message),
        IdempotencyKeyMismatchException => (422, "idempotency_key_mismatch", e.Message),
        AmountTooLargeException => (422, "amount_too_large", e.Message),
        InsufficientFundsException => (422, "insufficient_funds", e.Message),
        BadHttpRequestException { StatusCode: 413 } => (413, "payload_too_large", "The request body is larger than 64 KiB."),
        BadHttpRequestException b => (b.StatusCode, "invalid_request", b.Message),
        SocketException or NpgsqlException or Orleans.Storage.InconsistentStateException => StorageOrClusterUnavailable,
        // A grain's storage could not reach the database (Orleans wraps a failed state read in its own exception).
        OrleansException { InnerException: NpgsqlException or TimeoutException or SocketException } => StorageUnavailable,
        _ when GrainCallRetry.IsTransient(e) => StorageOrClusterUnavailable,
        // A grain's exception of a type this process cannot recreate (say, a database error inside a silo).
        Orleans.Serialization.UnavailableExceptionFallbackException f when f.ExceptionType?.StartsWith("Npgsql.", StringComparison.Ordinal) == true => StorageUnavailable,
        _ => (500, "internal_error", "An unexpected error occurred."),
    };

    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "Answered 503: {Type}: {Reason}")]
    private static partial void Unavailable(ILogger logger, string type, string reason);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Error, Message = "Unhandled exception")]
    private static partial void Unexpected(ILogger logger, Exception e);
}
