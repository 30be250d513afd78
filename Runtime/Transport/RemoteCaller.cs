using System.Diagnostics;
using FinCore.Runtime.Invocation;
using FinCore.Runtime.Membership;
using FinCore.Runtime.Telemetry;

namespace FinCore.Runtime.Transport;

/// <summary>Sends a call to the grain's owner by the current view, and keeps trying while the call certainly did
/// not run: no owner yet, connection refused, the silo bounced it. Each failure triggers a membership refresh,
/// so after a silo dies calls move to the new owner as soon as the view does.</summary>
internal sealed class RemoteCaller(MembershipOracle membership, ConnectionManager connections, MessagingOptions options, string? localSiloId)
{
    private readonly int _timeoutMs = (int)options.CallTimeout.TotalMilliseconds;

    public MessagingOptions Options => options;

    /// <summary>Calls the grain on its owner. <paramref name="runLocal"/> runs it here when this silo turns out to own it.</summary>
    public async ValueTask<object?> InvokeAsync(GrainId grain, MethodDescriptor method, object?[] args, Func<ValueTask<object?>>? runLocal)
    {
        using var buffer = new PooledBufferWriter(256);
        WireCodec.WriteArgs(buffer, method, args);
        var deadline = Environment.TickCount64 + _timeoutMs;
        var conflicts = 0;
        using var span = RuntimeTelemetry.StartOutgoingCall(grain.Type, method.Name);
        RuntimeTelemetry.RemoteCall(grain.Type);
        while (true)
        {
            var response = await SendAsync(grain, method.Id, method.IsIdempotent, buffer.WrittenMemory, 0, deadline, Activity.Current?.Id);
            if (response is not { } r)
            {
                return await runLocal!();
            }

            if (r.Status == ResponseStatus.Ok)
            {
                return WireCodec.ReadResult(r.Payload, method.ResultType);
            }

            var error = WireCodec.ReadException(r.Payload);
            // The stale activation that hit the conflict is gone; the write did not happen, so run once more on a fresh one.
            if (error is InconsistentStateException && conflicts++ == 0)
            {
                continue;
            }

            throw error;
        }
    }

    /// <summary>Sends already-encoded arguments to the owner. Null when the owner is this silo.</summary>
    public async ValueTask<WireResponse?> SendAsync(GrainId grain, int methodId, bool idempotent, ReadOnlyMemory<byte> args,
        byte hops, long deadline, string? traceParent)
    {
        for (var attempt = 0; ; attempt++)
        {
            var view = membership.View;
            var owner = view.Ring.Owner(grain);
            var remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                throw new SiloUnavailableException($"No silo could take the call to {grain} within {options.CallTimeout.TotalSeconds:0.#} s.");
            }

            if (owner is null)
            {
                membership.RequestRefresh();
                await BackoffAsync(attempt, deadline);
                continue;
            }

            if (owner.SiloId == localSiloId)
            {
                return null;
            }

            try
            {
                var connection = await connections.GetAsync(owner);
                var state = new RequestState(view.Version, hops, (int)remaining, grain, methodId, traceParent, args);
                var response = await connection.SendAsync(state, static (w, id, s) =>
                    WireRequest.Write(w, id, s.Version, s.Hops, s.TimeoutMs, s.Grain, s.MethodId, s.TraceParent, s.Args.Span), (int)remaining);
                if (response.Version > view.Version)
                {
                    membership.RequestRefresh();
                }

                if (response.Status != ResponseStatus.NotDelivered)
                {
                    return response;
                }
            }
            catch (TransportException e) when (!e.MaybeDelivered || idempotent)
            {
                // Certainly not run (or safe to run again): try the owner of the next view.
            }
            catch (TransportException e)
            {
                membership.RequestRefresh();
                throw new SiloUnavailableException($"Silo {owner.SiloId} was lost while running a call to {grain}; it may or may not have run.", e);
            }

            membership.RequestRefresh();
            await BackoffAsync(attempt, deadline);
        }
    }

    private static Task BackoffAsync(int attempt, long deadline)
    {
        var delay = Math.Min(500, 10 << Math.Min(attempt, 6));
        delay = delay / 2 + Random.Shared.Next(delay / 2 + 1);
        var remaining = deadline - Environment.TickCount64;
        return Task.Delay((int)Math.Max(1, Math.Min(delay, remaining)));
    }

    private readonly record struct RequestState(long Version, byte Hops, int TimeoutMs, GrainId Grain, int MethodId, string? TraceParent, ReadOnlyMemory<byte> Args);
}
