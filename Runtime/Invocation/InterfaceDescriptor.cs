using System.Collections.Frozen;
using System.Reflection;

namespace FinCore.Runtime.Invocation;

/// <summary>A grain interface: its grain type name and its methods by <see cref="MethodInfo"/> and by wire id.</summary>
internal sealed class InterfaceDescriptor
{
    public required Type InterfaceType { get; init; }
    public required string GrainType { get; init; }
    public FrozenDictionary<MethodInfo, MethodDescriptor> ByMethod { get; set; } = FrozenDictionary<MethodInfo, MethodDescriptor>.Empty;
    public FrozenDictionary<int, MethodDescriptor> ById { get; set; } = FrozenDictionary<int, MethodDescriptor>.Empty;
}
