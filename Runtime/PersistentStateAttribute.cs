namespace FinCore.Runtime;

/// <summary>On a grain constructor parameter of type <see cref="IPersistentState{TState}"/>: inject the state
/// stored under <paramref name="stateName"/>, loaded before <see cref="Grain.OnActivateAsync"/> runs.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName) : Attribute
{
    /// <summary>The name the state is stored under, per grain.</summary>
    public string StateName { get; } = stateName;
}
