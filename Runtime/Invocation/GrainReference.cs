using System.Reflection;

namespace FinCore.Runtime.Invocation;

/// <summary>The typed proxy behind every grain reference: maps the interface method to its descriptor
/// (a frozen-dictionary lookup) and hands the call to the invoker.</summary>
public class GrainReference : DispatchProxy
{
    private InterfaceDescriptor? _interface;
    private IGrainCallInvoker? _invoker;

    /// <summary>The referenced grain.</summary>
    public GrainId GrainId { get; private set; }

    internal void Initialize(GrainId grainId, InterfaceDescriptor descriptor, IGrainCallInvoker invoker)
    {
        GrainId = grainId;
        _interface = descriptor;
        _invoker = invoker;
    }

    /// <inheritdoc />
    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var method = _interface!.ByMethod[targetMethod!];
        return method.ReturnAdapter(_invoker!.InvokeAsync(GrainId, method, args ?? []));
    }

    /// <inheritdoc />
    public override string ToString() => GrainId.ToString();
}
