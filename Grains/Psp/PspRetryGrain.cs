using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace FinCore.Grains.Psp;

/// <summary>One PSP attempt per turn. The charge hands its work over once it has committed (<see cref="Begin"/>), and
/// the first attempt goes out at once, on a grain timer: nothing is written here or scheduled durably on the way most
/// charges take (settled at the first attempt). After a retryable failure the next attempt is an Orleans reminder
/// ("attempt"), registered before the state that records the failure: from then on the retries survive the silo. A
/// tick that fell due while its silo was dead comes a period later (<see cref="Backstop"/>); a charge whose hand-over
/// or first attempt died with its silo has no reminder, and the <see cref="Charges.ChargeSweeperGrain"/> hands it over again.
/// Nothing is written before a request goes out: an activation knows whether its own request is in doubt, and a new
/// activation (after a crash, on another silo) cannot know, so it asks the PSP before sending again. The PSP
/// idempotency key is the charge id, so even a re-send never captures twice. The state is read only when there can
/// be one (woken by a reminder, or handed a charge that was processing before): a new charge's retry grain, the one
/// nearly every charge activates, costs no read.</summary>
[GrainType("psp-retry")]
[Orleans.Placement.PreferLocalPlacement] // on the charge's silo: the two call each other on every attempt
public sealed class PspRetryGrain(PspClient psp, PspOutage outage, IOptions<PspOptions> options,
    [FromKeyedServices("fincore")] IGrainStorage storage) : Grain, IPspRetryGrain, IRemindable
{
    /// <summary>The state's name in storage (as the runtime before Orleans stored it).</summary>
    private const string StateName = "psp";
    /// <summary>The reminder that triggers an attempt after a failure, or after a cancel window.</summary>
    internal const string AttemptReminder = "attempt";

    /// <summary>The period of the attempt reminder: each attempt re-registers it with the next attempt's due time or
    /// removes it, so the period only matters when a tick is lost (its silo died, or its turn failed): then the attempt
    /// comes this much later.</summary>
    internal static readonly TimeSpan Backstop = TimeSpan.FromMinutes(1);

    /// <summary>An attempt is made by a grain timer when it is due; the reminder, registered for this much later, only
    /// fires when the timer's activation is gone. (A reminder due within moments of its registration would be taken for
    /// a tick in the past, and fire a period later.)</summary>
    internal static readonly TimeSpan ReminderSlack = TimeSpan.FromSeconds(2);

    private readonly PspOptions _options = options.Value;

    /// <summary>A request may have reached the PSP without its answer reaching us: ask before sending.</summary>
    private bool _inDoubt;

    /// <summary>An attempt is scheduled (timer or reminder) or under way: <see cref="Begin"/> has nothing to add.</summary>
    private bool _active;

    /// <summary>The attempt reminder may exist (this activation registered it, or was woken by it).</summary>
    private bool _reminded;

    /// <summary>The charge said it is processing: the first attempt needs no <see cref="IChargeGrain.MarkProcessing"/>.</summary>
    private bool _processing;

    private IGrainTimer? _timer;

    /// <summary>The attempt reminder as this activation last registered it (its version), so that removing it is one
    /// delete instead of a read and a delete. Null when this activation did not register it (woken by its tick).</summary>
    private IGrainReminder? _reminder;

    private readonly GrainState<PspRetryState> _state = new(new PspRetryState());

    /// <summary>The state as stored (a new one when nothing is).</summary>
    private PspRetryState S => _state.State ??= new PspRetryState();

    /// <summary><see cref="_state"/> holds what is stored (read, or known to be nothing).</summary>
    private bool _loaded;

    private IChargeGrain Charge => GrainFactory.Grain<IChargeGrain>(this.GetPrimaryKeyString());

    /// <summary>Reads the stored state once per activation. Work in progress from an earlier activation may have had a
    /// request out when it died: in doubt.</summary>
    private async Task LoadAsync()
    {
        if (!_loaded)
        {
            await storage.ReadStateAsync(StateName, this.GetGrainId(), _state);
            _loaded = true;
            _inDoubt |= S.Payment is not null && !S.Done;
        }
    }

    public async Task Begin(PspWork work, TimeSpan delay)
    {
        if (_active)
        {
            return; // scheduled or under way
        }

        _active = true;
        if (work.Resumed)
        {
            try
            {
                await LoadAsync(); // processing before: an earlier activation may have stored its progress
            }
            catch
            {
                _active = false;
                throw;
            }
        }
        else
        {
            _loaded = true; // a charge handed over from its creation: nothing was ever stored for it
        }

        var s = S;
        if (s.Done)
        {
            // Dead-lettered before; the charge is processing again (an operator's retry): a fresh retry budget.
            s.Attempts = 0;
            s.FirstAttemptAt = default;
            s.Done = false;
            s.LastError = null;
            s.Pending = false;
        }

        s.Payment ??= work.Payment;
        s.TraceParent ??= work.TraceParent;
        _inDoubt |= work.Resumed;
        if (delay > TimeSpan.Zero)
        {
            _processing = false; // created: the charge moves to processing when the window ends
            try
            {
                await ScheduleAsync(delay, writeState: false);
            }
            catch (Exception)
            {
                // The reminder could not be written: this activation keeps the time (and should its silo die first,
                // the sweeper hands the charge over again).
                StartTimer(delay);
            }

            return;
        }

        _processing = true;
        StartTimer(TimeSpan.Zero);
    }

    public async Task Continue(PspWork work, PspFirstAttempt first)
    {
        if (_active)
        {
            return; // handed over meanwhile (the sweeper): that work goes on
        }

        _active = true;
        _loaded = true; // a charge handed over from its first attempt: nothing was ever stored for it
        var s = S;
        s.Payment = work.Payment;
        s.TraceParent = work.TraceParent;
        s.Attempts = 1;
        s.FirstAttemptAt = first.At;
        s.LastError = first.Error;
        _inDoubt = first.InDoubt;
        _processing = true;
        try
        {
            if (first.Pending)
            {
                s.Pending = true;
                await ScheduleAsync(_options.PendingCheck, writeState: true);
            }
            else
            {
                await ScheduleNextOrGiveUpAsync(first.CircuitOpen);
            }
        }
        catch (Exception)
        {
            StartTimer(_options.Backoff(s.Attempts + 1)); // this activation keeps the time (as after a failed attempt)
        }
    }

    public async Task Wake()
    {
        if (S is { Done: false, Payment: not null } && _reminded)
        {
            try
            {
                await RunAttemptAsync();
            }
            catch (Exception)
            {
                // RunAttemptAsync scheduled the next attempt: nothing for the outage release to do. It sees only calls
                // that never reached this grain, and puts those charges back among the waiting.
            }
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != AttemptReminder)
        {
            return Task.CompletedTask;
        }

        _reminded = true;
        _active = true;
        return TickAsync();
    }

    /// <summary>A reminder's tick, or this activation's timer. Should the state not load (the database is overloaded or
    /// down), this activation tries again after a backoff: the reminder's next tick is a whole period away.</summary>
    private async Task TickAsync()
    {
        try
        {
            await LoadAsync();
        }
        catch (Exception)
        {
            StartTimer(_options.Backoff(Math.Max(S.Attempts + 1, 5)));
            throw; // logged by Orleans
        }

        await RunAttemptAsync();
    }

    /// <summary>One attempt, from whatever woke the grain (the hand-over's timer, a reminder, a wake-up). Should it fail
    /// (say, the charge's silo, or the one that keeps this grain's reminders, just died), the next attempt is scheduled
    /// durably after a backoff. Should even that fail (the database is down or overloaded), this activation tries again
    /// after the backoff all the same: an overloaded database answers again in seconds, and the sweeper's hand-over
    /// comes tens of seconds later. If this silo dies meanwhile, the sweeper hands the charge over.</summary>
    private async Task RunAttemptAsync()
    {
        try
        {
            await AttemptAsync();
        }
        catch (Exception)
        {
            var backoff = _options.Backoff(S.Attempts + 1);
            try
            {
                await ScheduleAsync(backoff, writeState: false);
            }
            catch (Exception)
            {
                StartTimer(backoff);
            }

            throw; // logged by Orleans
        }
    }

    private async Task AttemptAsync()
    {
        _timer?.Dispose();
        _timer = null;
        var s = S;
        if (s.Done)
        {
            await FinishAsync();
            return;
        }

        outage.Stop(this.GetPrimaryKeyString()); // attempted now, whatever woke it

        if (!_processing && s.Attempts == 0 && !s.Pending)
        {
            // After a cancel window, or woken by a reminder with nothing stored: the charge moves to processing (if it
            // was already, an activation before this one may have sent a request and died).
            try
            {
                var work = await Charge.MarkProcessing();
                s.Payment ??= work.Payment;
                s.TraceParent ??= work.TraceParent;
                _inDoubt |= work.Resumed;
                _processing = true;
            }
            catch (InvalidChargeStateException)
            {
                await FinishAsync(); // canceled before the first attempt, or settled before this (repeated) tick
                return;
            }
        }

        if (s.Payment is null)
        {
            await FinishAsync(); // not reached: the charge hands its payment over, or MarkProcessing returns it
            return;
        }

        using var attempt = PaymentsTelemetry.StartAttempt(s.Payment.ChargeId, s.Attempts + 1, s.TraceParent);

        if (s.FirstAttemptAt == default)
        {
            s.FirstAttemptAt = DateTime.UtcNow;
        }

        var result = _inDoubt || s.Pending ? await psp.QueryAsync(s.Payment.ChargeId, CancellationToken.None) : null;
        var sent = false;
        if (result is null || result.Kind == PspResultKind.NotFound)
        {
            // Never received by the PSP (or first attempt): send. Until its answer arrives, its outcome is in doubt.
            sent = true;
            s.Attempts++;
            s.Pending = false;
            _inDoubt = true;
            result = await psp.ChargeAsync(s.Payment, CancellationToken.None);
        }

        switch (result.Kind)
        {
            case PspResultKind.Captured or PspResultKind.Declined:
                _inDoubt = false;
                await Charge.ApplyPspResult(result.ToOutcome(), s.Attempts);
                await FinishAsync();
                break;
            case PspResultKind.Pending:
                _inDoubt = false;
                s.Pending = true;
                await ScheduleAsync(_options.PendingCheck, writeState: true);
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

    /// <summary>The next attempt, durably: the reminder first (from then on it survives this silo), then the state that
    /// records this attempt (if that write is lost, the next activation asks the PSP before sending), then the timer that
    /// makes the attempt on time in this activation.</summary>
    private async Task ScheduleAsync(TimeSpan due, bool writeState)
    {
        _reminder = await this.RegisterOrUpdateReminder(AttemptReminder, due + ReminderSlack, Backstop);
        _reminded = true;
        if (writeState)
        {
            await storage.WriteStateAsync(StateName, this.GetGrainId(), _state);
        }

        StartTimer(due);
    }

    private void StartTimer(TimeSpan due)
    {
        _timer?.Dispose();
        _timer = this.RegisterGrainTimer(static (grain, ct) => grain.TickAsync(), this, due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Nothing left to attempt: the reminder and the state go (nothing to do on the way most charges take:
    /// settled at the first attempt, with neither).</summary>
    private async Task FinishAsync()
    {
        if (_reminded)
        {
            await ForgetAttemptReminderAsync();
        }

        _reminded = false;
        if (_state.RecordExists)
        {
            await storage.ClearStateAsync(StateName, this.GetGrainId(), _state);
        }

        _active = false;
        DeactivateOnIdle(); // nothing left to do: not kept in memory until idle collection
    }

    /// <summary>Removes the attempt reminder: by the version this activation registered, or, when this activation never
    /// registered it (or another one changed it since), by reading it first. (A delete that matched nothing leaves a
    /// reminder whose next tick finds the charge settled and removes it.)</summary>
    private async Task ForgetAttemptReminderAsync()
    {
        if (_reminder is { } registered)
        {
            _reminder = null;
            try
            {
                await this.UnregisterReminder(registered);
                return;
            }
            catch (ReminderException)
            {
                // Changed by another activation since: removed by its current version below.
            }
        }

        await this.ForgetReminderAsync(AttemptReminder);
    }

    /// <summary>The next attempt after a failed one: after its backoff, or, when the silo's open circuit refused it (the
    /// PSP is failing for everyone), once the circuit closes again (<see cref="PspOutage"/>; the reminder is the backstop).</summary>
    private async Task ScheduleNextOrGiveUpAsync(bool circuitOpen)
    {
        var s = S;
        if (s.Attempts >= _options.MaxAttempts || DateTime.UtcNow - s.FirstAttemptAt >= _options.MaxElapsed)
        {
            await Charge.MarkDeadLettered(s.Attempts, s.LastError ?? "retries exhausted");
            s.Done = true; // kept: an operator's retry starts from here
            await storage.WriteStateAsync(StateName, this.GetGrainId(), _state);
            if (_reminded)
            {
                await ForgetAttemptReminderAsync();
            }

            _reminded = false;
            _active = false;
            DeactivateOnIdle();
            return;
        }

        PaymentsMetrics.Retry();
        var next = circuitOpen ? OutageBackstop(s.FirstAttemptAt) : _options.Backoff(s.Attempts);
        await ScheduleAsync(next, writeState: true);
        if (circuitOpen)
        {
            outage.Wait(this.GetPrimaryKeyString());
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
}
