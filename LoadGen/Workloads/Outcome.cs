namespace FinCore.LoadGen.Workloads;

/// <summary>A charge the server acknowledged with 202, for completion tracking: <see cref="CreatedAt"/> is the
/// server's own, from the 202 body (null when the body had none). With <c>--record-accepted</c>, also an acknowledged
/// transfer (201) or refund (202), recorded only: <see cref="Tracked"/> false, its completion is not tracked.</summary>
internal sealed record AcceptedCharge(TenantContext Tenant, string Id, long AcceptedTimestamp, DateTimeOffset? CreatedAt = null, bool Tracked = true);

/// <summary>What one request came back with: an HTTP status ("202") or a transport failure ("timeout", "connect").</summary>
internal readonly record struct Outcome(int Code, string Status, bool IsError, AcceptedCharge? Accepted = null);
