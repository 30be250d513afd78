using FinCore.Runtime.Internal;
using FinCore.Runtime.Placement;

namespace FinCore.Runtime;

/// <summary>The identity of a grain: its type name and its string key.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    /// <summary>A stable 32-bit hash of the identity (xxHash32 over UTF-8), the same in every process; a type placed
    /// with another (<see cref="GrainTypeAttribute.PlaceWith"/>) hashes as that type, so the two share a silo.</summary>
    public uint GetUniformHashCode() => StableHash.Compute(PlacementGroups.Of(Type), Key);

    /// <inheritdoc />
    public override string ToString() => Type + "/" + Key;
}
