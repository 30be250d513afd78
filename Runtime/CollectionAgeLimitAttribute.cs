namespace FinCore.Runtime;

/// <summary>How long an activation of this grain class may stay unused before it is collected, instead of the silo's
/// <c>Activation:CollectionAge</c> (5 minutes by default). For grains that are many, short-lived and cheap to
/// reactivate (a payment, once settled), so that a silo's memory follows its recent traffic instead of its last
/// minutes' worth of grains. An operator's <c>Activation:CollectionAgeByType:&lt;grain type&gt;</c> wins over it.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class CollectionAgeLimitAttribute(int seconds) : Attribute
{
    /// <summary>The limit.</summary>
    public TimeSpan Age { get; } = seconds > 0
        ? TimeSpan.FromSeconds(seconds)
        : throw new ArgumentOutOfRangeException(nameof(seconds), "A collection age must be positive.");
}
