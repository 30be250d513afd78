namespace FinCore.LoadGen.Workloads;

/// <summary>A charge the server acknowledged with 202, for completion tracking.</summary>
internal sealed record AcceptedCharge(TenantContext Tenant, string Id, long AcceptedTimestamp);

/// <summary>What one request came back with: an HTTP status ("202") or a transport failure ("timeout", "connect").</summary>
internal readonly record struct Outcome(int Code, string Status, bool IsError, AcceptedCharge? Accepted = null);
