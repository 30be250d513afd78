using System.Collections.Immutable;
using FinCore.Runtime.Placement;

namespace FinCore.Runtime.Membership;

/// <summary>An immutable snapshot of the membership table at one version, with its placement ring.</summary>
public sealed class MembershipView
{
    public static readonly MembershipView Empty = new(0, []);

    public MembershipView(long version, ImmutableArray<SiloInfo> silos)
    {
        Version = version;
        Silos = silos;
        Ring = ConsistentHashRing.Build(silos);
    }

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
