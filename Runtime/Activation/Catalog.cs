using System.Collections.Concurrent;
using System.Reflection;

namespace FinCore.Runtime.Activation;

/// <summary>The activations on this silo: at most one per grain, created on first call.</summary>
internal sealed class Catalog(SiloRuntime runtime, GrainClassRegistry classes) : IDisposable
{
    private readonly ConcurrentDictionary<GrainId, ActivationData> _activations = new();
    private readonly ConcurrentDictionary<string, long> _collectionAges = new(StringComparer.Ordinal);
    private Timer? _collector;

    public int Count => _activations.Count;

    /// <summary>The membership version of this silo's view (0 before it has one).</summary>
    public long MembershipVersion => runtime.MembershipVersionOrZero;

    /// <summary>Every activation, enumerated live: no snapshot (<c>Values</c> would lock every bucket and copy tens of
    /// thousands of references into a large-object-heap array on each metrics scrape, once a second).</summary>
    public IEnumerable<ActivationData> All
    {
        get
        {
            foreach (var (_, a) in _activations)
            {
                yield return a;
            }
        }
    }

    public void StartCollector()
    {
        Telemetry.RuntimeTelemetry.Register(this);
        var quantum = runtime.ActivationOptions.CollectionQuantum;
        _collector = new Timer(_ => CollectIdle(), null, quantum, quantum);
    }

    /// <summary>The grain's activation, started if there is none. <paramref name="stateIsNew"/>: the caller knows the
    /// grain has never stored state, so a new activation starts with empty states instead of reading them (a write then
    /// is an insert, which fails if a state existed after all, and the turn runs again on an activation that
    /// reads).</summary>
    public ActivationData GetOrCreate(GrainId grainId, bool stateIsNew = false)
    {
        if (_activations.TryGetValue(grainId, out var existing))
        {
            return existing;
        }

        if (!classes.TryGetClass(grainId.Type, out var grainClass))
        {
            throw new InvalidOperationException($"No grain class on this silo implements grain type '{grainId.Type}'.");
        }

        var created = new ActivationData(grainId, grainClass, runtime, stateIsNew);
        var winner = _activations.GetOrAdd(grainId, created);
        if (ReferenceEquals(winner, created))
        {
            created.Start();
        }

        return winner;
    }

    public bool TryGet(GrainId grainId, out ActivationData activation) => _activations.TryGetValue(grainId, out activation!);

    public void Remove(ActivationData activation) =>
        _activations.TryRemove(new KeyValuePair<GrainId, ActivationData>(activation.GrainId, activation));

    /// <summary>Deactivates what the ring now places elsewhere; completes when those activations are gone.</summary>
    public Task OnOwnershipChanged(Func<GrainId, bool> ownedHere)
    {
        List<Task>? leaving = null;
        foreach (var a in All)
        {
            if (!ownedHere(a.GrainId))
            {
                a.RequestDeactivation(DeactivationReason.OwnershipChanged);
                (leaving ??= []).Add(a.Deactivated);
            }
        }

        return leaving is null ? Task.CompletedTask : Task.WhenAll(leaving);
    }

    public async Task DeactivateAllAsync(DeactivationReason reason)
    {
        var all = _activations.Values.ToList();
        foreach (var a in all)
        {
            a.RequestDeactivation(reason);
        }

        await Task.WhenAll(all.Select(a => a.Deactivated));
    }

    private void CollectIdle()
    {
        var now = Environment.TickCount64;
        var collected = 0;
        foreach (var a in All)
        {
            if (now - a.LastUsed > CollectionAgeMs(a.GrainId.Type))
            {
                a.RequestDeactivation(DeactivationReason.IdleCollection);
                collected++;
            }
        }

        if (collected > 0)
        {
            runtime.Log.IdleCollected(collected);
        }
    }

    /// <summary>The collection age of a grain type: the operator's per-type setting, else its class's
    /// <see cref="CollectionAgeLimitAttribute"/>, else the silo's.</summary>
    private long CollectionAgeMs(string grainType) => _collectionAges.GetOrAdd(grainType, type =>
    {
        var options = runtime.ActivationOptions;
        if (options.CollectionAgeByType.TryGetValue(type, out var configured))
        {
            return (long)configured.TotalMilliseconds;
        }

        var limit = classes.TryGetClass(type, out var grainClass) ? grainClass.GetCustomAttribute<CollectionAgeLimitAttribute>() : null;
        return (long)(limit?.Age ?? options.CollectionAge).TotalMilliseconds;
    });

    public void Dispose()
    {
        Telemetry.RuntimeTelemetry.Unregister(this);
        _collector?.Dispose();
    }
}
