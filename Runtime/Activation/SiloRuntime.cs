using System.Text.Json;
using FinCore.Runtime.Invocation;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Reminders;
using FinCore.Runtime.Transport;

using FinCore.Runtime.Telemetry;

namespace FinCore.Runtime.Activation;

/// <summary>The silo's call router and request dispatcher: a call for a grain this silo owns runs on the local
/// activation; any other goes to the owner. An incoming call for a grain owned elsewhere (the caller's view
/// was stale) is forwarded, with this silo's newer version in the response so the caller refreshes.</summary>
internal sealed class SiloRuntime : IGrainCallInvoker, IRequestDispatcher
{
    private Catalog? _catalog;
    private ReminderService? _reminders;
    private RemoteCaller? _remote;
    private SiloMembership? _membership;

    /// <summary>The last membership view every other live silo had handed over (seen, and deactivated what its ring
    /// places elsewhere). A silo starts with the view it joined in, in which it owns nothing.</summary>
    private MembershipView _settled = MembershipView.Empty;

    public SiloRuntime(GrainInterfaceRegistry interfaces, ActivationOptions activationOptions, RuntimeLog log)
    {
        Interfaces = interfaces;
        ActivationOptions = activationOptions;
        Log = log;
        GrainFactory = new GrainFactory(interfaces, this);
    }

    public GrainInterfaceRegistry Interfaces { get; }

    public ActivationOptions ActivationOptions { get; }

    public RuntimeLog Log { get; }

    public IGrainFactory GrainFactory { get; }

    public IGrainCallInvoker Invoker => this;

    public JsonSerializerOptions StateJson { get; } = new(JsonSerializerDefaults.Web);

    public GrainActivator Activator { get; set; } = null!;

    public Catalog Catalog { get => _catalog!; set => _catalog = value; }

    public ReminderService Reminders { get => _reminders!; set => _reminders = value; }

    public RemoteCaller Remote { get => _remote!; set => _remote = value; }

    public SiloMembership Membership { get => _membership!; set => _membership = value; }

    public long MembershipVersionOrZero => _membership?.View.Version ?? 0;

    public string LocalSiloId => Membership.Self.SiloId;

    public bool OwnsLocally(GrainId grain) => OwnsLocally(grain, Membership.View);

    private bool OwnsLocally(GrainId grain, MembershipView view) =>
        Membership.Status == SiloStatus.Active && view.Ring.Owner(grain)?.SiloId == LocalSiloId;

    public ValueTask<object?> InvokeAsync(GrainId grainId, MethodDescriptor method, object?[] args)
    {
        if (OwnsLocally(grainId))
        {
            return WithDeadline(InvokeLocalAsync(grainId, method, args), grainId, method);
        }

        return Remote.InvokeAsync(grainId, method, args, () => WithDeadline(InvokeLocalAsync(grainId, method, args), grainId, method));
    }

    private ValueTask<object?> InvokeLocalAsync(GrainId grainId, MethodDescriptor method, object?[] args)
    {
        var activation = ActivationAsync(grainId);
        return activation.IsCompletedSuccessfully ? activation.Result.InvokeAsync(method, args) : Invoke(activation, method, args);

        static async ValueTask<object?> Invoke(ValueTask<ActivationData> activation, MethodDescriptor method, object?[] args) =>
            await (await activation).InvokeAsync(method, args);
    }

    /// <summary>The grain's activation here; a new one only once the hand-over allows it (<see cref="AwaitHandoverAsync"/>).</summary>
    private ValueTask<ActivationData> ActivationAsync(GrainId grain, bool stateIsNew = false)
    {
        if (Catalog.TryGet(grain, out var existing))
        {
            return new(existing);
        }

        var handover = AwaitHandoverAsync(grain);
        return handover.IsCompletedSuccessfully ? new(Catalog.GetOrCreate(grain, stateIsNew)) : Create(handover, grain, stateIsNew);

        async ValueTask<ActivationData> Create(ValueTask handover, GrainId grain, bool stateIsNew)
        {
            await handover;
            return Catalog.GetOrCreate(grain, stateIsNew);
        }
    }

    public void StartSettled(MembershipView view) => _settled = view;

    /// <summary>Completes when this silo may start an activation of <paramref name="grain"/>: at once when the ring
    /// placed it here before the latest membership change too (or there has been none since every silo handed over);
    /// otherwise once every other live silo has handed the change over, so none still acting on the old ring (its view
    /// a refresh behind) serves the grain from state this activation would not see, or fires its reminders. Bounded by
    /// <see cref="MembershipOptions.HandoverTimeout"/>.</summary>
    private ValueTask AwaitHandoverAsync(GrainId grain)
    {
        var view = Membership.View;
        if (NotHandedOver(view) is null)
        {
            _settled = view;
            return ValueTask.CompletedTask;
        }

        return _settled.Ring.Owner(grain)?.SiloId == LocalSiloId ? ValueTask.CompletedTask : new ValueTask(WaitForHandoverAsync(grain));
    }

    private async Task WaitForHandoverAsync(GrainId grain)
    {
        var deadline = Environment.TickCount64 + (long)Membership.Options.HandoverTimeout.TotalMilliseconds;
        while (true)
        {
            Membership.RequestRefresh();
            await Task.Delay(25);
            var view = Membership.View;
            var waitingFor = NotHandedOver(view);
            if (waitingFor is null)
            {
                _settled = view;
                return;
            }

            if (Environment.TickCount64 > deadline)
            {
                Log.HandoverTimedOut(grain, view.Version, waitingFor);
                return;
            }
        }
    }

    /// <summary>The ids of the other Active or ShuttingDown silos that have not handed over <paramref name="view"/>'s
    /// version; null when none.</summary>
    private string? NotHandedOver(MembershipView view)
    {
        List<string>? behind = null;
        foreach (var s in view.Silos)
        {
            if (s.SiloId != LocalSiloId && s.Status is SiloStatus.Active or SiloStatus.ShuttingDown && s.SeenVersion < view.Version)
            {
                (behind ??= []).Add(s.SiloId);
            }
        }

        return behind is null ? null : string.Join(", ", behind);
    }

    /// <summary>
    /// Local calls get the same deadline as remote ones. Turns are not reentrant, so two grains calling each other
    /// (A waits on B while B waits on A) would otherwise wait forever when both live here; with the deadline the
    /// cycle breaks with a <see cref="TimeoutException"/>, and the callers' retries (reminders, clients) go on.
    /// </summary>
    private ValueTask<object?> WithDeadline(ValueTask<object?> pending, GrainId grainId, MethodDescriptor method)
    {
        return pending.IsCompleted ? pending : Await(pending, grainId, method, Remote.Options.CallTimeout);

        static async ValueTask<object?> Await(ValueTask<object?> pending, GrainId grainId, MethodDescriptor method, TimeSpan timeout)
        {
            try
            {
                return await pending.AsTask().WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"{grainId}.{method.Name} did not answer within {timeout.TotalSeconds:0.#} s (busy, or waiting on a call back to its caller).");
            }
        }
    }

    /// <summary>Delivers a reminder tick in a turn of the grain. False when this silo does not own the grain.
    /// <paramref name="grainIsNew"/>: the grain has never stored state, so an activation started for the tick begins
    /// empty instead of reading it.</summary>
    public async Task<bool> DeliverReminderAsync(GrainId grain, string name, TickStatus status, bool grainIsNew = false)
    {
        if (!OwnsLocally(grain))
        {
            return false;
        }

        return await (await ActivationAsync(grain, grainIsNew)).InvokeReminderAsync(name, status);
    }

    public async ValueTask<PooledBufferWriter> DispatchAsync(WireRequest request)
    {
        var response = new PooledBufferWriter(256);
        try
        {
            if (!Interfaces.TryGet(request.Grain.Type, out var iface) || !iface.ById.TryGetValue(request.MethodId, out var method))
            {
                throw new NotSupportedException($"This silo has no grain method {request.MethodId} on grain type '{request.Grain.Type}'.");
            }

            if (!OwnsLocally(request.Grain))
            {
                var forwarded = request.Hops >= Remote.Options.MaxForwardHops
                    ? new WireResponse(ResponseStatus.NotDelivered, 0, [])
                    : await Remote.SendAsync(request.Grain, request.MethodId, method.IsIdempotent,
                        request.Body.AsMemory(request.ArgsOffset, request.ArgsLength), (byte)(request.Hops + 1),
                        Environment.TickCount64 + request.TimeoutMs, request.TraceParent);
                if (forwarded is { } f)
                {
                    WireResponse.Write(response, request.Id, f.Status, Membership.View.Version, f.Payload);
                    return response;
                }
            }

            var args = WireCodec.ReadArgs(request.Args, method);
            using var span = RuntimeTelemetry.StartIncomingCall(request.Grain.Type, method.Name, request.TraceParent);
            var result = await InvokeLocalAsync(request.Grain, method, args);
            using var payload = new PooledBufferWriter(256);
            WireCodec.WriteResult(payload, method.ResultType, result);
            WireResponse.Write(response, request.Id, ResponseStatus.Ok, Membership.View.Version, payload.WrittenSpan);
        }
        catch (Exception e)
        {
            response.Dispose();
            response = new PooledBufferWriter(256);
            using var payload = new PooledBufferWriter(256);
            WireCodec.WriteException(payload, e);
            WireResponse.Write(response, request.Id, ResponseStatus.Exception, Membership.View.Version, payload.WrittenSpan);
        }

        return response;
    }
}
