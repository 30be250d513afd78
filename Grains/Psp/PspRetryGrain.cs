using System.Diagnostics;
using FinCore.Runtime;
using FinCore.Runtime.Persistence;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Psp;

/// <summary>One PSP attempt per turn, each triggered by the durable reminder "attempt", so retries survive the silo
/// that scheduled them. The first reminder is written by the charge, in the transaction that creates it; the grain
/// activates when it fires and takes the payment from the charge. Its own reminders change in the same transaction as
/// its state (a retryable failure: attempt count and next reminder; a final answer after retries: state and reminder
/// removed), so a charge the PSP settles at the first attempt costs no write here at all (the fired one-shot reminder
/// is removed by the charge's final commit). Nothing is written before a request goes out: an activation knows whether
/// its own request is in doubt, and a new activation (after a crash, on another silo) cannot know, so it asks the PSP
/// before sending again. The PSP idempotency key is the charge id, so even a re-send never captures twice.</summary>
public sealed class PspRetryGrain(PspClient psp, PspOutage outage, IOptions<PspOptions> options, [PersistentState("psp")] ITransactionalState<PspRetryState> state)
    : Grain, IPspRetryGrain, IRemindable
{
    /// <summary>The reminder that triggers an attempt (the charge registers the first one).</summary>
    internal const string AttemptReminder = "attempt";
    private readonly PspOptions _options = options.Value;

    /// <summary>A request may have reached the PSP without its answer reaching us: ask before sending.</summary>
    private bool _inDoubt;

    private IChargeGrain Charge => GrainFactory.GetGrain<IChargeGrain>(GetPrimaryKeyString());

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // Work in progress from an earlier activation: it may have had a request out when it died.
        _inDoubt = state.State.Payment is not null && !state.State.Done;
        return Task.CompletedTask;
    }

    public async Task Begin(PspPayment payment)
    {
        if (state.State.Done || await GetReminder(AttemptReminder) is not null)
        {
            return; // given up on (an operator restarts it), or scheduled
        }

        if (state.State.Payment is null)
        {
            state.State.Payment = payment;
            state.State.TraceParent = Activity.Current?.Id;
        }

        await state.WriteStateAsync([ReminderWithState(AttemptReminder, _options.StartDelay, Timeout.InfiniteTimeSpan)]);
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
        _inDoubt = true; // earlier attempts may still have reached the PSP
        await state.WriteStateAsync([ReminderWithState(AttemptReminder, TimeSpan.Zero, Timeout.InfiniteTimeSpan)]);
    }

    public Task Wake() => state.State is { Done: false, Payment: not null } ? ReceiveReminder(AttemptReminder, default) : Task.CompletedTask;

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        var s = state.State;
        if (reminderName != AttemptReminder || s.Done)
        {
            return;
        }

        outage.Stop(GetPrimaryKeyString()); // attempted now, whatever woke it

        if (s.Attempts == 0 && !s.Pending)
        {
            try
            {
                var work = await Charge.MarkProcessing();
                if (s.Payment is null)
                {
                    // The first attempt, scheduled by the charge: nothing stored here yet. If the charge was already
                    // processing, an activation before this one may have sent a request and died.
                    s.Payment = work.Payment;
                    s.TraceParent = work.TraceParent;
                    _inDoubt |= work.Resumed;
                }
            }
            catch (InvalidChargeStateException)
            {
                await FinishAsync(); // canceled before the first attempt, or settled before this (repeated) tick
                DeactivateOnIdle();
                return;
            }
        }

        if (s.Payment is null)
        {
            return; // not reached: a state is stored only once its payment is known
        }

        using var attempt = PaymentsTelemetry.Source.StartActivity("psp attempt", ActivityKind.Internal, s.TraceParent);
        attempt?.SetTag("fincore.charge_id", s.Payment.ChargeId).SetTag("fincore.attempt", s.Attempts + 1);

        if (s.FirstAttemptAt == default)
        {
            s.FirstAttemptAt = DateTime.UtcNow;
        }

        var result = _inDoubt || s.Pending ? await CallAsync("query", () => psp.QueryAsync(s.Payment.ChargeId, CancellationToken.None)) : null;
        var sent = false;
        if (result is null || result.Kind == PspResultKind.NotFound)
        {
            // Never received by the PSP (or first attempt): send. Until its answer arrives, its outcome is in doubt.
            sent = true;
            s.Attempts++;
            s.Pending = false;
            _inDoubt = true;
            result = await CallAsync("charge", () => psp.ChargeAsync(s.Payment, CancellationToken.None));
        }

        switch (result.Kind)
        {
            case PspResultKind.Captured or PspResultKind.Declined:
                _inDoubt = false;
                // Settled at the first attempt, nothing stored here: the charge's commit removes the reminder that
                // fired this turn. Otherwise the state goes, and the reminder with it.
                await Charge.ApplyPspResult(new PspOutcome(result.Kind == PspResultKind.Captured ? "captured" : "declined", result.Reference, result.DeclineCode),
                    s.Attempts, endsAttempts: !state.RecordExists);
                await FinishAsync();
                DeactivateOnIdle(); // nothing left to do: not kept in memory until idle collection (minutes)
                break;
            case PspResultKind.Pending:
                _inDoubt = false;
                s.Pending = true;
                await state.WriteStateAsync([ReminderWithState(AttemptReminder, _options.PendingCheck, Timeout.InfiniteTimeSpan)]);
                break;
            default:
                if (result.Kind == PspResultKind.Retryable && sent)
                {
                    _inDoubt = false; // our request was refused, not received: it cannot have captured anything
                }

                s.LastError = result.Error ?? result.Kind.ToString();
                await ScheduleNextOrGiveUpAsync(result.CircuitOpen);
                break;
        }
    }

    /// <summary>The charge has its final status: nothing is left to remember, and the reminder goes with the state.
    /// With nothing stored (settled at the first attempt), there is nothing to write: the reminder that fired this turn
    /// is a one-shot, removed by the charge's final commit, or by the runtime once the turn is over when the charge
    /// was final already.</summary>
    private Task FinishAsync() => state.RecordExists ? state.ClearStateAsync([ReminderRemovalWithState(AttemptReminder)]) : Task.CompletedTask;

    /// <summary>The next attempt after a failed one: after its backoff, or, when the silo's open circuit refused it (the
    /// PSP is failing for everyone), once the circuit closes again (<see cref="PspOutage"/>; the reminder is the backstop).</summary>
    private async Task ScheduleNextOrGiveUpAsync(bool circuitOpen)
    {
        var s = state.State;
        if (s.Attempts >= _options.MaxAttempts || DateTime.UtcNow - s.FirstAttemptAt >= _options.MaxElapsed)
        {
            await Charge.MarkDeadLettered(s.Attempts, s.LastError ?? "retries exhausted");
            s.Done = true; // kept: an operator's retry restarts from here
            await state.WriteStateAsync([ReminderRemovalWithState(AttemptReminder)]);
            DeactivateOnIdle();
            return;
        }

        PaymentsMetrics.Retry();
        var next = circuitOpen ? OutageBackstop(s.FirstAttemptAt) : _options.Backoff(s.Attempts);
        await state.WriteStateAsync([ReminderWithState(AttemptReminder, next, Timeout.InfiniteTimeSpan)]);
        if (circuitOpen)
        {
            outage.Wait(GetPrimaryKeyString());
        }
    }

    /// <summary>When a charge waiting out an outage tries by itself: half to all of <see cref="PspOptions.OutageBackstop"/>,
    /// but not past the retry budget, so one still waiting when it runs out is dead-lettered on time.</summary>
    private TimeSpan OutageBackstop(DateTime firstAttemptAt)
    {
        var left = _options.MaxElapsed - (DateTime.UtcNow - firstAttemptAt);
        var backstop = _options.OutageBackstop * (0.5 + (Random.Shared.NextDouble() / 2));
        return left < backstop ? (left > TimeSpan.Zero ? left : TimeSpan.Zero) : backstop;
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
