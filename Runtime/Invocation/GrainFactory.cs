using System.Reflection;

namespace FinCore.Runtime.Invocation;

internal sealed class GrainFactory(GrainInterfaceRegistry registry, IGrainCallInvoker invoker) : IGrainFactory
{
    public TGrainInterface GetGrain<TGrainInterface>(string primaryKey) where TGrainInterface : IGrainWithStringKey
    {
        ArgumentException.ThrowIfNullOrEmpty(primaryKey);
        var descriptor = registry.Get(typeof(TGrainInterface));
        var proxy = DispatchProxy.Create<TGrainInterface, GrainReference>();
        ((GrainReference)(object)proxy).Initialize(new GrainId(descriptor.GrainType, primaryKey), descriptor, invoker);
        return proxy;
    }
}
