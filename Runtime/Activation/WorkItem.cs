using System.Diagnostics;
using FinCore.Runtime.Invocation;

namespace FinCore.Runtime.Activation;

/// <summary>A request waiting in an activation's queue.</summary>
internal abstract class WorkItem : TaskCompletionSource<object?>
{
    protected WorkItem() : base(TaskCreationOptions.RunContinuationsAsynchronously) { }

    /// <summary>The caller's span when the request was queued: the turn runs under it.</summary>
    public Activity? Caller { get; } = Activity.Current;

    public abstract ValueTask<object?> RunAsync(object grain);

    /// <summary>Sends the request on again after its activation went away.</summary>
    public abstract ValueTask<object?> RedispatchAsync(SiloRuntime runtime, GrainId grainId);
}

internal sealed class MethodWorkItem(MethodDescriptor method, object?[] args) : WorkItem
{
    public override ValueTask<object?> RunAsync(object grain) => method.Invoker(grain, args);

    public override ValueTask<object?> RedispatchAsync(SiloRuntime runtime, GrainId grainId) =>
        runtime.Invoker.InvokeAsync(grainId, method, args);
}

/// <summary>A reminder tick; its result is whether the tick reached the grain.</summary>
internal sealed class ReminderWorkItem(string name, TickStatus status) : WorkItem
{
    public override async ValueTask<object?> RunAsync(object grain)
    {
        if (grain is not IRemindable remindable)
        {
            throw new InvalidOperationException($"{grain.GetType().Name} received reminder '{name}' but does not implement IRemindable.");
        }

        await remindable.ReceiveReminder(name, status);
        return true;
    }

    /// <summary>Whether the tick reached the grain: false when another silo owns it now (its reminder service fires
    /// it; counting it as delivered would remove a one-shot reminder that never ran).</summary>
    public override async ValueTask<object?> RedispatchAsync(SiloRuntime runtime, GrainId grainId) =>
        await runtime.DeliverReminderAsync(grainId, name, status);
}
