using System.Reflection;

namespace FinCore.Runtime.Invocation;

/// <summary>Everything the runtime needs to call one grain interface method, built once per method:
/// a compiled invoker and a compiled return adapter, so a call involves no reflection.</summary>
internal sealed class MethodDescriptor
{
    public required InterfaceDescriptor Interface { get; init; }
    public required MethodInfo Method { get; init; }
    public required int Id { get; init; }
    public required Type[] ParameterTypes { get; init; }

    /// <summary>The awaited result type; null for <see cref="Task"/> and <see cref="ValueTask"/>.</summary>
    public required Type? ResultType { get; init; }

    public required bool IsIdempotent { get; init; }

    /// <summary>Calls the method on a grain instance; adapts its task to a <see cref="ValueTask{TResult}"/> of object.</summary>
    public required Func<object, object?[], ValueTask<object?>> Invoker { get; init; }

    /// <summary>Turns the runtime's result into the method's declared return type (Task, Task&lt;T&gt;, ValueTask …).</summary>
    public required Func<ValueTask<object?>, object> ReturnAdapter { get; init; }

    public string Name => Method.Name;

    public override string ToString() => Interface.GrainType + "." + Method.Name;
}
