using FinCore.Grains;

namespace FinCore.Gateway.Auth;

/// <summary>The tenant a request acts for, taken from its API key (never from the request).</summary>
internal sealed record TenantContext(string TenantId, string KeyId, string Currency, TenantLimits Limits);
