namespace FinCore.Runtime;

/// <summary>On a grain constructor parameter of type <see cref="IPersistentState{TState}"/>: inject the state
/// stored under <paramref name="stateName"/>, loaded before <see cref="Grain.OnActivateAsync"/> runs. With
/// <paramref name="storageName"/>, the state is kept by the <see cref="Persistence.RowStateStorage{TState}"/> registered
/// under that name (<c>AddRowStateStorage</c>); without it, in <c>fc_grain_state</c>.</summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class PersistentStateAttribute(string stateName, string? storageName = null) : Attribute
{
    /// <summary>The name the state is stored under, per grain.</summary>
    public string StateName { get; } = stateName;

    /// <summary>The storage that keeps it; null for <c>fc_grain_state</c>.</summary>
    public string? StorageName { get; } = storageName;
}
