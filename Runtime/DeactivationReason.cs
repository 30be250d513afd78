namespace FinCore.Runtime;

/// <summary>Why an activation is being deactivated.</summary>
public enum DeactivationReason
{
    /// <summary>The grain asked for it with <see cref="Grain.DeactivateOnIdle"/>.</summary>
    ApplicationRequested,
    /// <summary>Unused for longer than the collection age.</summary>
    IdleCollection,
    /// <summary>The ring moved the grain to another silo.</summary>
    OwnershipChanged,
    /// <summary>The silo is shutting down.</summary>
    ShuttingDown,
    /// <summary>A state write hit an ETag conflict: this activation is stale.</summary>
    InconsistentState,
    /// <summary>Activation failed.</summary>
    ActivationFailed,
}
