using System.Collections.Concurrent;
using System.Reflection;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Persistence;
using Microsoft.Extensions.DependencyInjection;

namespace FinCore.Runtime.Activation;

/// <summary>Creates grain instances: constructor parameters come from the service provider, except
/// <c>[PersistentState]</c> ones, which get a state bound to this grain. The plan per class is built once.</summary>
internal sealed class GrainActivator(IServiceProvider services, GrainStorage storage)
{
    private readonly ConcurrentDictionary<Type, Func<ActivationData, List<IStateLoader>, object>[]> _plans = new();
    private readonly ConcurrentDictionary<Type, ConstructorInfo> _constructors = new();

    public (object Instance, List<IStateLoader> States) Create(Type grainClass, ActivationData activation)
    {
        var plan = _plans.GetOrAdd(grainClass, BuildPlan);
        var ctor = _constructors[grainClass];
        var states = new List<IStateLoader>();
        var args = new object[plan.Length];
        for (var i = 0; i < plan.Length; i++)
        {
            args[i] = plan[i](activation, states);
        }

        var instance = ctor.Invoke(args);
        if (instance is Grain grain)
        {
            grain.Attach(activation);
        }

        return (instance, states);
    }

    private Func<ActivationData, List<IStateLoader>, object>[] BuildPlan(Type grainClass)
    {
        var ctor = grainClass.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
            ?? throw new InvalidOperationException($"{grainClass} has no public constructor.");
        _constructors[grainClass] = ctor;
        return ctor.GetParameters().Select(BuildParameter).ToArray();
    }

    private Func<ActivationData, List<IStateLoader>, object> BuildParameter(ParameterInfo p)
    {
        var attr = p.GetCustomAttribute<PersistentStateAttribute>();
        if (attr is null)
        {
            return (_, _) => services.GetRequiredService(p.ParameterType);
        }

        var t = p.ParameterType;
        if (!t.IsGenericType || (t.GetGenericTypeDefinition() != typeof(IPersistentState<>) && t.GetGenericTypeDefinition() != typeof(ITransactionalState<>)))
        {
            throw new InvalidOperationException($"[PersistentState] parameter '{p.Name}' must be IPersistentState<T> or ITransactionalState<T>.");
        }

        var stateType = typeof(PersistentState<>).MakeGenericType(t.GetGenericArguments()[0]);
        var name = attr.StateName;
        var row = RowStorage(attr, t.GetGenericArguments()[0]);
        return (activation, states) =>
        {
            var runtime = activation.Runtime;
            var state = (IStateLoader)Activator.CreateInstance(stateType, activation.GrainId, name, storage, runtime.StateJson,
                (Action)(() => activation.RequestDeactivation(DeactivationReason.InconsistentState)),
                row, row is null ? null : (Func<bool>)(() => runtime.Membership.View.WriteLevel >= RuntimeLevel.RowStates))!;
            states.Add(state);
            return state;
        };
    }

    private RowStateStorage? RowStorage(PersistentStateAttribute attr, Type stateType)
    {
        if (attr.StorageName is not { } storageName)
        {
            return null;
        }

        var row = services.GetKeyedService<RowStateStorage>(storageName)
            ?? throw new InvalidOperationException($"No row state storage is registered as '{storageName}' (AddRowStateStorage).");
        return row.GetType().IsAssignableTo(typeof(RowStateStorage<>).MakeGenericType(stateType))
            ? row
            : throw new InvalidOperationException($"The row state storage '{storageName}' ({row.GetType()}) does not keep {stateType}.");
    }
}
