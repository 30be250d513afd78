using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Linq.Expressions;
using System.Reflection;
using FinCore.Runtime.Internal;

namespace FinCore.Runtime.Invocation;

/// <summary>Describes grain interfaces on first use: grain type names, stable method ids and compiled invokers.</summary>
/// <remarks>Public only so hosts can share one instance through DI; its members are the runtime's.</remarks>
public sealed class GrainInterfaceRegistry
{
    private readonly ConcurrentDictionary<Type, InterfaceDescriptor> _byType = new();
    private readonly ConcurrentDictionary<string, InterfaceDescriptor> _byGrainType = new(StringComparer.Ordinal);

    internal InterfaceDescriptor Get(Type interfaceType) =>
        _byType.TryGetValue(interfaceType, out var d) ? d : Register(interfaceType);

    /// <summary>The id of the grain behind <typeparamref name="TGrainInterface"/> with this key.</summary>
    internal GrainId IdOf<TGrainInterface>(string key) where TGrainInterface : IGrainWithStringKey
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        return new GrainId(Get(typeof(TGrainInterface)).GrainType, key);
    }

    internal bool TryGet(string grainType, out InterfaceDescriptor descriptor) =>
        _byGrainType.TryGetValue(grainType, out descriptor!);

    internal static string GrainTypeOf(Type interfaceType)
    {
        var attr = interfaceType.GetCustomAttribute<GrainTypeAttribute>();
        if (attr is not null)
        {
            return attr.Name;
        }

        var name = interfaceType.Name;
        return name.Length > 1 && name[0] == 'I' && char.IsUpper(name[1]) ? name[1..] : name;
    }

    internal InterfaceDescriptor Register(Type interfaceType)
    {
        if (!interfaceType.IsInterface || !typeof(IGrainWithStringKey).IsAssignableFrom(interfaceType))
        {
            throw new ArgumentException($"{interfaceType} is not a grain interface (an interface extending IGrainWithStringKey).");
        }

        lock (_byType)
        {
            if (_byType.TryGetValue(interfaceType, out var existing))
            {
                return existing;
            }

            var descriptor = new InterfaceDescriptor { InterfaceType = interfaceType, GrainType = GrainTypeOf(interfaceType) };
            if (interfaceType.GetCustomAttribute<GrainTypeAttribute>()?.PlaceWith is { } placeWith)
            {
                Placement.PlacementGroups.Register(descriptor.GrainType, placeWith);
            }

            var byMethod = new Dictionary<MethodInfo, MethodDescriptor>();
            var byId = new Dictionary<int, MethodDescriptor>();
            var methods = interfaceType.GetMethods()
                .Concat(interfaceType.GetInterfaces().Where(i => typeof(IGrain).IsAssignableFrom(i)).SelectMany(i => i.GetMethods()));
            foreach (var method in methods)
            {
                var md = Describe(descriptor, method);
                if (!byId.TryAdd(md.Id, md))
                {
                    throw new InvalidOperationException($"{interfaceType}: methods {byId[md.Id].Method} and {method} hash to the same id; rename one.");
                }

                byMethod[method] = md;
            }

            descriptor.ByMethod = byMethod.ToFrozenDictionary();
            descriptor.ById = byId.ToFrozenDictionary();
            if (_byGrainType.TryGetValue(descriptor.GrainType, out var clash) && clash.InterfaceType != interfaceType)
            {
                throw new InvalidOperationException($"Grain type '{descriptor.GrainType}' is used by {clash.InterfaceType} and {interfaceType}.");
            }

            _byGrainType[descriptor.GrainType] = descriptor;
            _byType[interfaceType] = descriptor;
            return descriptor;
        }
    }

    private static MethodDescriptor Describe(InterfaceDescriptor owner, MethodInfo method)
    {
        if (method.IsGenericMethod)
        {
            throw new NotSupportedException($"Grain method {method} is generic; grain methods cannot be.");
        }

        var parameters = method.GetParameters();
        var signature = method.Name + "(" + string.Join(",", parameters.Select(p => p.ParameterType.FullName)) + ")";
        var (invokerAdapter, returnAdapter, resultType) = Adapters(method);

        var grain = Expression.Parameter(typeof(object), "grain");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var call = Expression.Call(
            Expression.Convert(grain, method.DeclaringType!),
            method,
            parameters.Select((p, i) => Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), p.ParameterType)));
        var invoker = Expression.Lambda<Func<object, object?[], ValueTask<object?>>>(Expression.Call(invokerAdapter, call), grain, args).Compile();

        var value = Expression.Parameter(typeof(ValueTask<object?>), "value");
        var adapter = Expression.Lambda<Func<ValueTask<object?>, object>>(Expression.Call(returnAdapter, value), value).Compile();

        return new MethodDescriptor
        {
            Interface = owner,
            Method = method,
            Id = (int)StableHash.Compute(signature),
            ParameterTypes = parameters.Select(p => p.ParameterType).ToArray(),
            ResultType = resultType,
            IsIdempotent = method.GetCustomAttribute<IdempotentAttribute>() is not null,
            Invoker = invoker,
            ReturnAdapter = adapter,
        };
    }

    private static (MethodInfo Invoker, MethodInfo Return, Type? Result) Adapters(MethodInfo method)
    {
        var t = method.ReturnType;
        var a = typeof(TaskAdapters);
        if (t == typeof(Task))
        {
            return (a.GetMethod(nameof(TaskAdapters.FromTask))!, a.GetMethod(nameof(TaskAdapters.ToTask))!, null);
        }

        if (t == typeof(ValueTask))
        {
            return (a.GetMethod(nameof(TaskAdapters.FromValueTask))!, a.GetMethod(nameof(TaskAdapters.ToValueTask))!, null);
        }

        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var r = t.GetGenericArguments()[0];
            return (a.GetMethod(nameof(TaskAdapters.FromTaskOf))!.MakeGenericMethod(r), a.GetMethod(nameof(TaskAdapters.ToTaskOf))!.MakeGenericMethod(r), r);
        }

        if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            var r = t.GetGenericArguments()[0];
            return (a.GetMethod(nameof(TaskAdapters.FromValueTaskOf))!.MakeGenericMethod(r), a.GetMethod(nameof(TaskAdapters.ToValueTaskOf))!.MakeGenericMethod(r), r);
        }

        throw new NotSupportedException($"Grain method {method.DeclaringType}.{method.Name} must return Task, Task<T>, ValueTask or ValueTask<T>.");
    }
}
