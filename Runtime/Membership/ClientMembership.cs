using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Membership;

/// <summary>A gateway's read-only view of membership.</summary>
internal sealed class ClientMembership(MembershipTable table, MembershipOptions options, ILogger logger)
    : MembershipOracle(table, options.RefreshInterval, logger);
