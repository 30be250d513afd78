using System.Collections.Concurrent;

namespace FinCore.Runtime.Placement;

/// <summary>Grain types placed with another type (<see cref="GrainTypeAttribute.PlaceWith"/>): a grain's place on the
/// ring is the hash of its group's type and its key. Filled as grain interfaces are described, which a silo does for
/// every grain class at start.</summary>
internal static class PlacementGroups
{
    private static readonly ConcurrentDictionary<string, string> Groups = new(StringComparer.Ordinal);

    public static void Register(string grainType, string placeWith) => Groups[grainType] = placeWith;

    /// <summary>The type name a grain of <paramref name="grainType"/> is hashed by.</summary>
    public static string Of(string grainType) => Groups.TryGetValue(grainType, out var group) ? group : grainType;
}
