namespace FinCore.Runtime;

/// <summary>Marks a grain method as safe to repeat. When the connection to the owning silo breaks after the
/// request was sent (so it is unknown whether it ran), the runtime re-sends an idempotent call to the new
/// owner instead of failing it with <see cref="SiloUnavailableException"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class IdempotentAttribute : Attribute;
