using System.Diagnostics;
using FinCore.Runtime;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Psp;

/// <summary>One PSP attempt per turn, each triggered by the durable reminder "attempt", so retries survive the silo
/// that scheduled them. The attempt count and the "a request is out" flag are persisted before the request goes
/// out: whoever runs the next attempt (after a crash, on another silo) asks the PSP before sending again. The PSP
/// idempotency key is the charge id, so even a re-send never captures twice.</summary>
public sealed class PspRetryGrain(PspClient psp, IOptions<PspOptions> options, [PersistentState("psp")] IPersistentState<PspRetryState> state)
    : Grain, IPspRetryGrain, IRemindable
{
    private const string Attempt = "attempt";
    private readonly PspOptions _options = options.Value;

    private IChargeGrain Charge => GrainFactory.GetGrain<IChargeGrain>(GetPrimaryKeyString());

    public async Task Begin(PspPayment payment)
    {
        if (state.State.Payment is not null)
        {
            // Begun before; but the call that began it may have failed between the state write and the reminder
            // (the database went away), and the client's retry lands here: make sure the attempt is scheduled.
            if (!state.State.Done && await GetReminder(Attempt) is null)
            {
                await RegisterOrUpdateReminder(Attempt, _options.StartDelay, Timeout.InfiniteTimeSpan);
            }

            return;
        }

        state.State.Payment = payment;
        state.State.TraceParent = Activity.Current?.Id;
        await state.WriteStateAsync();
        await RegisterOrUpdateReminder(Attempt, _options.StartDelay, Timeout.InfiniteTimeSpan);
    }

    public async Task Restart()
    {
        if (state.State.Payment is null)
        {
            throw new InvalidOperationException("Nothing to restart: processing never began.");
        }

        state.State.Attempts = 0;
        state.State.FirstAttemptAt = default;
        state.State.Done = false;
        state.State.LastError = null;
        await state.WriteStateAsync();
        await RegisterOrUpdateReminder(Attempt, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var s = state.State;
        if (reminderName != Attempt || s.Done || s.Payment is null)
        {
            return;
        }

        using var attempt = PaymentsTelemetry.Source.StartActivity("psp attempt", ActivityKind.Internal, s.TraceParent);
        attempt?.SetTag("fincore.charge_id", s.Payment.ChargeId).SetTag("fincore.attempt", s.Attempts + 1);
        if (s.Attempts == 0 && !s.Pending && !s.Unknown)
        {
            try
            {
                await Charge.MarkProcessing(0);
            }
            catch (InvalidChargeStateException)
            {
                s.Done = true; // canceled before the first attempt
                await state.WriteStateAsync();
                return;
            }
        }

        if (s.FirstAttemptAt == default)
        {
            s.FirstAttemptAt = DateTime.UtcNow;
        }

        var result = s.Unknown || s.Pending ? await CallAsync("query", () => psp.QueryAsync(s.Payment.ChargeId, CancellationToken.None)) : null;
        var sent = false;
        if (result is null || result.Kind == PspResultKind.NotFound)
        {
            sent = true;
            // Never received by the PSP (or first attempt): send. Persist first, so a crash mid-request is "unknown".
            s.Attempts++;
            s.Unknown = true;
            s.Pending = false;
            await state.WriteStateAsync();
            result = await CallAsync("charge", () => psp.ChargeAsync(s.Payment, CancellationToken.None));
        }

        switch (result.Kind)
        {
            case PspResultKind.Captured or PspResultKind.Declined:
                await Charge.ApplyPspResult(new PspOutcome(result.Kind == PspResultKind.Captured ? "captured" : "declined", result.Reference, result.DeclineCode), s.Attempts);
                s.Done = true;
                s.Unknown = false;
                s.Pending = false;
                await state.WriteStateAsync();
                break;
            case PspResultKind.Pending:
                s.Pending = true;
                s.Unknown = false;
                await state.WriteStateAsync();
                await RegisterOrUpdateReminder(Attempt, _options.PendingCheck, Timeout.InfiniteTimeSpan);
                break;
            default:
                if (result.Kind == PspResultKind.Retryable && sent)
                {
                    s.Unknown = false; // our request was refused, not received: it cannot have captured anything
                }

                s.LastError = result.Error ?? result.Kind.ToString();
                await ScheduleNextOrGiveUpAsync();
                break;
        }
    }

    private async Task ScheduleNextOrGiveUpAsync()
    {
        var s = state.State;
        if (s.Attempts >= _options.MaxAttempts || DateTime.UtcNow - s.FirstAttemptAt >= _options.MaxElapsed)
        {
            await Charge.MarkDeadLettered(s.Attempts, s.LastError ?? "retries exhausted");
            s.Done = true;
            await state.WriteStateAsync();
            return;
        }

        await state.WriteStateAsync();
        PaymentsMetrics.Retry();
        await RegisterOrUpdateReminder(Attempt, _options.Backoff(s.Attempts), Timeout.InfiniteTimeSpan);
    }

    private static async Task<PspCallResult> CallAsync(string what, Func<Task<PspCallResult>> call)
    {
        using var span = PaymentsTelemetry.Source.StartActivity("psp " + what, ActivityKind.Client);
        var started = Stopwatch.GetTimestamp();
        var result = await call();
        var outcome = result.Kind.ToString().ToLowerInvariant();
        span?.SetTag("fincore.psp_outcome", outcome);
        if (result.Kind is PspResultKind.Retryable or PspResultKind.Unknown)
        {
            span?.SetStatus(ActivityStatusCode.Error, result.Error);
        }

        PaymentsMetrics.PspCall(what + "." + outcome, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return result;
    }
}
