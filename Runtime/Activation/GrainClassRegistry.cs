using System.Reflection;
using FinCore.Runtime.Invocation;

namespace FinCore.Runtime.Activation;

/// <summary>Which grain class implements which grain type, found by scanning the grain assemblies at start.</summary>
internal sealed class GrainClassRegistry
{
    private readonly Dictionary<string, Type> _classes = new(StringComparer.Ordinal);

    public GrainClassRegistry(IEnumerable<Assembly> assemblies, GrainInterfaceRegistry interfaces)
    {
        foreach (var type in assemblies.Distinct().SelectMany(SafeTypes))
        {
            if (type.IsAbstract || !type.IsClass || !typeof(Grain).IsAssignableFrom(type))
            {
                continue;
            }

            foreach (var iface in type.GetInterfaces())
            {
                if (iface == typeof(IGrainWithStringKey) || !typeof(IGrainWithStringKey).IsAssignableFrom(iface))
                {
                    continue;
                }

                var grainType = interfaces.Register(iface).GrainType;
                if (_classes.TryGetValue(grainType, out var other) && other != type && !other.IsAssignableFrom(type) && !type.IsAssignableFrom(other))
                {
                    throw new InvalidOperationException($"Grain type '{grainType}' is implemented by both {other} and {type}.");
                }

                _classes[grainType] = type;
            }
        }
    }

    public IReadOnlyDictionary<string, Type> Classes => _classes;

    public bool TryGetClass(string grainType, out Type grainClass) => _classes.TryGetValue(grainType, out grainClass!);

    private static IEnumerable<Type> SafeTypes(Assembly a)
    {
        try
        {
            return a.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.Where(t => t is not null)!;
        }
    }
}
