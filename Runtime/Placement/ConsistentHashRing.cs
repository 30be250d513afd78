using FinCore.Runtime.Internal;
using FinCore.Runtime.Membership;

namespace FinCore.Runtime.Placement;

/// <summary>A consistent-hash ring over Active silos with virtual nodes. Built from the membership view,
/// so every node with the same view computes the same owner for a grain.</summary>
internal sealed class ConsistentHashRing
{
    /// <summary>Points per silo: enough that three silos split the key space within a few percent.</summary>
    public const int VirtualNodesPerSilo = 128;

    private readonly uint[] _points;
    private readonly SiloInfo[] _owners;

    private ConsistentHashRing(uint[] points, SiloInfo[] owners)
    {
        _points = points;
        _owners = owners;
    }

    public int SiloCount { get; private init; }

    public static ConsistentHashRing Build(IEnumerable<SiloInfo> silos)
    {
        var entries = new List<(uint Point, SiloInfo Silo)>();
        var count = 0;
        foreach (var silo in silos)
        {
            if (silo.Status != SiloStatus.Active)
            {
                continue;
            }

            count++;
            for (var i = 0; i < VirtualNodesPerSilo; i++)
            {
                entries.Add((StableHash.Compute(silo.SiloId + "#" + i), silo));
            }
        }

        // Ties (astronomically rare) are broken by silo id so every node orders them alike.
        entries.Sort((a, b) => a.Point != b.Point ? a.Point.CompareTo(b.Point) : string.CompareOrdinal(a.Silo.SiloId, b.Silo.SiloId));
        var points = new uint[entries.Count];
        var owners = new SiloInfo[entries.Count];
        for (var i = 0; i < entries.Count; i++)
        {
            points[i] = entries[i].Point;
            owners[i] = entries[i].Silo;
        }

        return new ConsistentHashRing(points, owners) { SiloCount = count };
    }

    /// <summary>The owner of <paramref name="hash"/>: the first point clockwise at or after it; null if no silo is Active.</summary>
    public SiloInfo? Owner(uint hash)
    {
        if (_points.Length == 0)
        {
            return null;
        }

        var index = Array.BinarySearch(_points, hash);
        if (index < 0)
        {
            index = ~index;
            if (index == _points.Length)
            {
                index = 0;
            }
        }

        return _owners[index];
    }

    public SiloInfo? Owner(GrainId grainId) => Owner(grainId.GetUniformHashCode());
}
