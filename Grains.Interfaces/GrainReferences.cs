using System.Collections.Concurrent;

namespace FinCore.Grains;

/// <summary>
/// String-keyed grain references without Orleans' per-call type resolution. <c>IGrainFactory.GetGrain&lt;T&gt;(key)</c>
/// asks every interface-type provider on each call, and the attribute one reads the interface's custom attributes by
/// reflection (new attribute objects each time): 2% of a silo's CPU at 800 charges/s (<c>ops/bench/profile</c>). Here
/// Orleans resolves an interface's grain type and interface type once, and every later reference is built from them.
/// </summary>
public static class GrainReferences
{
    private static readonly ConcurrentDictionary<Type, (GrainType Grain, GrainInterfaceType Interface)> Resolved = new();

    /// <summary>The grain of interface <typeparamref name="T"/> with this key, as <c>GetGrain&lt;T&gt;(key)</c> gives it.</summary>
    public static T Grain<T>(this IGrainFactory grains, string key) where T : IGrainWithStringKey =>
        Resolved.TryGetValue(typeof(T), out var types)
            ? (T)grains.GetGrain(GrainId.Create(types.Grain, key), types.Interface)
            : Remember(grains.GetGrain<T>(key));

    /// <summary>The grain of interface <typeparamref name="T"/> with this key, as <c>GetGrain&lt;T&gt;(key)</c> gives it.</summary>
    public static T Grain<T>(this IGrainFactory grains, long key) where T : IGrainWithIntegerKey =>
        Resolved.TryGetValue(typeof(T), out var types)
            ? (T)grains.GetGrain(GrainId.Create(types.Grain, GrainIdKeyExtensions.CreateIntegerKey(key)), types.Interface)
            : Remember(grains.GetGrain<T>(key));

    private static T Remember<T>(T grain)
    {
        var reference = (GrainReference)(object)grain!;
        // A client that has not read the cluster's manifest yet gets a placeholder type ("sys.grain.stub…"), resolved
        // later on the call's way: such a type is not one to remember.
        if (!reference.GrainId.Type.ToString()!.StartsWith(GrainTypePrefix.SystemPrefix, StringComparison.Ordinal))
        {
            Resolved.TryAdd(typeof(T), (reference.GrainId.Type, reference.InterfaceType));
        }

        return grain;
    }
}
