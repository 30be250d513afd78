using System.Collections.Immutable;
using FinCore.Runtime.Placement;

namespace FinCore.Runtime.Membership;

/// <summary>An immutable snapshot of the membership table at one version, with its placement ring.</summary>
public sealed class MembershipView
{
    public static readonly MembershipView Empty = new(0, []);

    public MembershipView(long version, ImmutableArray<SiloInfo> silos, int clusterLevel = 0)
    {
        Version = version;
        Silos = silos;
        ClusterLevel = clusterLevel;
        Ring = ConsistentHashRing.Build(silos);
        var lowest = RuntimeLevel.Current;
        foreach (var s in silos)
        {
            if (s.Status != SiloStatus.Dead)
            {
                lowest = Math.Min(lowest, s.Level);
            }
        }

        LowestLiveLevel = lowest;
    }

    /// <summary>The lowest <see cref="SiloInfo.Level"/> among the silos not dead (this runtime's own level when there
    /// are none): what every live silo of the cluster can read.</summary>
    public int LowestLiveLevel { get; }

    /// <summary>The cluster's level as stored: raised once every live silo was at it, never lowered; silos of a lower
    /// level may not join.</summary>
    public int ClusterLevel { get; }

    /// <summary>What the cluster writes: formats up to the cluster's level that every live silo reads (a silo of an
    /// older build that joined anyway, one from before levels were checked, keeps it lower).</summary>
    public int WriteLevel => Math.Min(ClusterLevel, LowestLiveLevel);

    /// <summary>The membership version; every change increments it.</summary>
    public long Version { get; }

    /// <summary>Every silo row, dead ones included.</summary>
    public ImmutableArray<SiloInfo> Silos { get; }

    /// <summary>The placement ring over the <see cref="SiloStatus.Active"/> silos.</summary>
    internal ConsistentHashRing Ring { get; }

    /// <summary>The silo row with this id, or null.</summary>
    public SiloInfo? Find(string siloId)
    {
        foreach (var s in Silos)
        {
            if (s.SiloId == siloId)
            {
                return s;
            }
        }

        return null;
    }
}
