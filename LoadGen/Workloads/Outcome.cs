namespace FinCore.LoadGen.Workloads;

/// <summary>A charge the server acknowledged with 202, for completion tracking: <see cref="CreatedAt"/> is the
/// server's own, from the 202 body (null when the body had none).</summary>
internal sealed record AcceptedCharge(TenantContext Tenant, string Id, long AcceptedTimestamp, DateTimeOffset? CreatedAt = null);

/// <summary>What one request came back with: an HTTP status ("202") or a transport failure ("timeout", "connect").</summary>
internal readonly record struct Outcome(int Code, string Status, bool IsError, AcceptedCharge? Accepted = null);
