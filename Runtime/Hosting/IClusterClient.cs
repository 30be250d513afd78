using FinCore.Runtime.Membership;

namespace FinCore.Runtime.Hosting;

/// <summary>A process outside the silos (a gateway) calling grains: every call goes straight to the owning silo.</summary>
public interface IClusterClient : IGrainFactory
{
    /// <summary>The membership as this client last read it.</summary>
    MembershipView View { get; }

    /// <summary>Re-reads membership now.</summary>
    Task<MembershipView> RefreshAsync(CancellationToken cancellationToken);
}
