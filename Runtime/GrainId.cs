using FinCore.Runtime.Internal;

namespace FinCore.Runtime;

/// <summary>The identity of a grain: its type name and its string key.</summary>
public readonly record struct GrainId(string Type, string Key)
{
    /// <summary>A stable 32-bit hash of the identity (xxHash32 over UTF-8), the same in every process.</summary>
    public uint GetUniformHashCode() => StableHash.Compute(Type, Key);

    /// <inheritdoc />
    public override string ToString() => Type + "/" + Key;
}
