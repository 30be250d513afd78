namespace FinCore.Runtime.Activation;

/// <summary>Activation lifetime.</summary>
public sealed class ActivationOptions
{
    /// <summary>An activation unused this long is collected. Default 5 minutes.</summary>
    public TimeSpan CollectionAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Collection age by grain type (e.g. <c>Activation__CollectionAgeByType__charge=00:02:00</c>), over a
    /// class's <see cref="CollectionAgeLimitAttribute"/> and <see cref="CollectionAge"/>.</summary>
    public Dictionary<string, TimeSpan> CollectionAgeByType { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How often idle activations are looked for. Default 30 seconds.</summary>
    public TimeSpan CollectionQuantum { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Longest <c>OnActivateAsync</c>/<c>OnDeactivateAsync</c> may take. Default 10 seconds.</summary>
    public TimeSpan LifecycleTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
