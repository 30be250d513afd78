namespace FinCore.Runtime;

/// <summary>Names the grain type of a grain interface. The name keys persisted state and reminders,
/// so it must not change once data exists. Default: the interface name without the leading "I".</summary>
[AttributeUsage(AttributeTargets.Interface)]
public sealed class GrainTypeAttribute(string name) : Attribute
{
    /// <summary>The grain type name.</summary>
    public string Name { get; } = name;

    /// <summary>Another grain type whose grain with the same key this one is placed with (on the same silo), so
    /// calls between the two stay in-process. Changing it moves activations, never data.</summary>
    public string? PlaceWith { get; init; }
}
