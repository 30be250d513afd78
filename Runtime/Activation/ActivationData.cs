using System.Diagnostics;
using FinCore.Runtime.Invocation;

using FinCore.Runtime.Telemetry;

namespace FinCore.Runtime.Activation;

/// <summary>One activation of one grain: its instance and its request queue. Requests run one at a time, in
/// arrival order. When the activation is idle a call runs inline on the caller's thread (no queueing, no
/// thread hop); otherwise it queues and a pump runs the queue.</summary>
internal sealed class ActivationData
{
    private enum Phase
    {
        Activating,
        Valid,
        Deactivating,
        Invalid,
    }

    private readonly object _lock = new();
    private readonly Queue<WorkItem> _queue = new();
    private readonly Type _grainClass;
    private readonly TaskCompletionSource _deactivated = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Phase _phase = Phase.Activating;
    private bool _running = true; // activation itself is the first turn
    private DeactivationReason? _deactivation;
    private object? _instance;
    private long _lastUsed = Environment.TickCount64;
    private readonly bool _stateIsNew;

    public ActivationData(GrainId grainId, Type grainClass, SiloRuntime runtime, bool stateIsNew = false)
    {
        GrainId = grainId;
        _grainClass = grainClass;
        Runtime = runtime;
        _stateIsNew = stateIsNew;
    }

    public GrainId GrainId { get; }

    public SiloRuntime Runtime { get; }

    public long LastUsed => Volatile.Read(ref _lastUsed);

    /// <summary>Requests waiting in the mailbox (read without the lock: a gauge, not a decision).</summary>
    public int QueueLength => _queue.Count;

    /// <summary>Completes when the activation has deactivated (or failed to activate).</summary>
    public Task Deactivated => _deactivated.Task;

    public void Start() => _ = ActivateAsync();

    public ValueTask<object?> InvokeAsync(MethodDescriptor method, object?[] args)
    {
        Volatile.Write(ref _lastUsed, Environment.TickCount64);
        bool inline = false, startPump = false;
        MethodWorkItem? item = null;
        lock (_lock)
        {
            if (_phase == Phase.Invalid)
            {
                // Lost the race with deactivation: go round again (a new activation, or the new owner).
            }
            else if (_phase == Phase.Valid && !_running && _deactivation is null)
            {
                _running = true;
                inline = true;
            }
            else
            {
                item = new MethodWorkItem(method, args);
                _queue.Enqueue(item);
                if (!_running && _phase == Phase.Valid)
                {
                    _running = startPump = true;
                }
            }
        }

        if (inline)
        {
            return RunInline(method, args);
        }

        if (item is null)
        {
            return Runtime.Invoker.InvokeAsync(GrainId, method, args);
        }

        if (startPump)
        {
            _ = Task.Run(PumpAsync);
        }

        return new ValueTask<object?>(item.Task);
    }

    /// <summary>Runs a reminder tick in a turn; false when it could not be delivered here and the grain is owned
    /// elsewhere now.</summary>
    public async Task<bool> InvokeReminderAsync(string name, TickStatus status)
    {
        var item = new ReminderWorkItem(name, status);
        bool startPump = false, redispatch = false;
        lock (_lock)
        {
            if (_phase == Phase.Invalid)
            {
                redispatch = true;
            }
            else
            {
                _queue.Enqueue(item);
                if (!_running && _phase == Phase.Valid)
                {
                    _running = startPump = true;
                }
            }
        }

        if (redispatch)
        {
            return await Runtime.DeliverReminderAsync(GrainId, name, status);
        }

        if (startPump)
        {
            _ = Task.Run(PumpAsync);
        }

        return (bool)(await item.Task)!;
    }

    /// <summary>Deactivate once the current turn ends; queued requests are then sent on again.</summary>
    public void RequestDeactivation(DeactivationReason reason)
    {
        lock (_lock)
        {
            if (_phase is Phase.Deactivating or Phase.Invalid || _deactivation is not null)
            {
                return;
            }

            _deactivation = reason;
            if (_running || _phase != Phase.Valid)
            {
                return; // the running turn (or the activation) picks it up
            }

            _running = true;
        }

        _ = Task.Run(PumpAsync);
    }

    private ValueTask<object?> RunInline(MethodDescriptor method, object?[] args)
    {
        var started = Stopwatch.GetTimestamp();
        ValueTask<object?> result;
        try
        {
            result = method.Invoker(_instance!, args);
        }
        catch (Exception e)
        {
            result = ValueTask.FromException<object?>(e);
        }

        if (!result.IsCompleted)
        {
            return AwaitInline(result, started);
        }

        if (result.IsFaulted)
        {
            OnFault(result.AsTask().Exception!.InnerException!);
        }

        RuntimeTelemetry.CallCompleted(GrainId.Type, !result.IsFaulted, started);
        EndTurn();
        return result;
    }

    private async ValueTask<object?> AwaitInline(ValueTask<object?> pending, long started)
    {
        var ok = false;
        try
        {
            var result = await pending;
            ok = true;
            return result;
        }
        catch (Exception e)
        {
            OnFault(e);
            throw;
        }
        finally
        {
            RuntimeTelemetry.CallCompleted(GrainId.Type, ok, started);
            EndTurn();
        }
    }

    private void EndTurn()
    {
        lock (_lock)
        {
            if (_queue.Count == 0 && _deactivation is null)
            {
                _running = false;
                return;
            }
        }

        _ = Task.Run(PumpAsync);
    }

    private void OnFault(Exception e)
    {
        if (e is InconsistentStateException)
        {
            Runtime.Log.InconsistentState(GrainId);
            RequestDeactivation(DeactivationReason.InconsistentState);
        }
    }

    private async Task ActivateAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(Runtime.ActivationOptions.LifecycleTimeout);
            var (instance, states) = Runtime.Activator.Create(_grainClass, this);
            foreach (var state in states)
            {
                if (_stateIsNew)
                {
                    state.StartEmpty();
                }
                else
                {
                    await state.LoadAsync(cts.Token);
                }
            }

            if (instance is Grain grain)
            {
                await grain.OnActivateAsync(cts.Token);
            }

            _instance = instance;
            lock (_lock)
            {
                _phase = Phase.Valid;
            }
        }
        catch (Exception e)
        {
            Runtime.Log.ActivationFailed(e, GrainId);
            Runtime.Catalog.Remove(this);
            List<WorkItem> failed;
            lock (_lock)
            {
                _phase = Phase.Invalid;
                failed = [.. _queue];
                _queue.Clear();
                _running = false;
            }

            foreach (var item in failed)
            {
                item.TrySetException(e);
            }

            _deactivated.TrySetResult();
            return;
        }

        await PumpAsync();
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            WorkItem? item = null;
            DeactivationReason? reason = null;
            lock (_lock)
            {
                if (_deactivation is { } r && _phase == Phase.Valid)
                {
                    _phase = Phase.Deactivating;
                    reason = r;
                }
                else if (!_queue.TryDequeue(out item))
                {
                    _running = false;
                    return;
                }
            }

            if (reason is { } why)
            {
                await DeactivateAsync(why);
                return;
            }

            Volatile.Write(ref _lastUsed, Environment.TickCount64);

            // The turn runs in its caller's trace, not in whichever caller happened to start the pump.
            Activity.Current = item!.Caller;
            var started = Stopwatch.GetTimestamp();
            try
            {
                item.TrySetResult(await item.RunAsync(_instance!));
                if (item is MethodWorkItem)
                {
                    RuntimeTelemetry.CallCompleted(GrainId.Type, ok: true, started);
                }
            }
            catch (Exception e)
            {
                OnFault(e);
                item.TrySetException(e);
                if (item is MethodWorkItem)
                {
                    RuntimeTelemetry.CallCompleted(GrainId.Type, ok: false, started);
                }
            }
            finally
            {
                Activity.Current = null;
            }
        }
    }

    private async Task DeactivateAsync(DeactivationReason reason)
    {
        if (_instance is Grain grain)
        {
            try
            {
                using var cts = new CancellationTokenSource(Runtime.ActivationOptions.LifecycleTimeout);
                await grain.OnDeactivateAsync(reason, cts.Token);
            }
            catch (Exception e)
            {
                Runtime.Log.DeactivationFailed(e, GrainId);
            }
        }

        Runtime.Catalog.Remove(this);
        List<WorkItem> pending;
        lock (_lock)
        {
            _phase = Phase.Invalid;
            _running = false;
            pending = [.. _queue];
            _queue.Clear();
        }

        _deactivated.TrySetResult();
        foreach (var item in pending)
        {
            _ = RedispatchAsync(item);
        }
    }

    private async Task RedispatchAsync(WorkItem item)
    {
        try
        {
            item.TrySetResult(await item.RedispatchAsync(Runtime, GrainId));
        }
        catch (Exception e)
        {
            item.TrySetException(e);
        }
    }
}
