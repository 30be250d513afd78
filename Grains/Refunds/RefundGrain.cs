using FinCore.Grains.Psp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FinCore.Grains.Refunds;

/// <summary>One refund's way through the PSP (<see cref="IRefundGrain"/>): attempts on a grain timer, with the PSP
/// options' backoff after each failure, until the PSP gives a final answer and the charge has recorded it. Nothing is
/// stored here: the refund's row is committed pending before this grain hears of it, every request carries the refund
/// id as the PSP's idempotency key (a re-send after a timeout is answered with the first outcome, never refunded
/// again), and a refund whose grain died is handed over again by the charge sweeper.</summary>
[GrainType("refund")]
[Orleans.Placement.PreferLocalPlacement] // on the charge's silo: it calls the charge with the answer
public sealed partial class RefundGrain(PspClient psp, IOptions<PspOptions> options, ILogger<RefundGrain> logger) : Grain, IRefundGrain
{
    private PspRefund? _work;
    private int _attempts;
    private IGrainTimer? _timer;

    public Task Send(PspRefund refund)
    {
        if (_work is null)
        {
            _work = refund;
            Schedule(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    private void Schedule(TimeSpan due)
    {
        _timer?.Dispose();
        _timer = this.RegisterGrainTimer(static (grain, _) => grain.AttemptAsync(), this,
            new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private async Task AttemptAsync()
    {
        var work = _work!;
        _attempts++;
        var result = await psp.RefundAsync(work, CancellationToken.None);
        if (result.Kind is PspResultKind.Refunded or PspResultKind.RefundFailed)
        {
            try
            {
                await GrainFactory.Grain<IChargeGrain>(Ids.ChargeKey(work.TenantId, work.ChargeId))
                    .ApplyRefundResult(work.RefundId, new PspRefundOutcome(result.Kind == PspResultKind.Refunded, result.Reference, result.DeclineCode));
                _timer?.Dispose();
                _timer = null;
                DeactivateOnIdle();
                return;
            }
            catch (Exception e)
            {
                // The PSP decided; the charge did not record it (its storage failed, say). Asked again, the PSP answers the same.
                AttemptFailed(logger, work.RefundId, _attempts, "recording the answer failed: " + e.Message);
            }
        }
        else
        {
            AttemptFailed(logger, work.RefundId, _attempts, result.Error ?? result.Kind.ToString());
        }

        Schedule(options.Value.Backoff(_attempts));
    }

    [LoggerMessage(EventId = 7400, Level = LogLevel.Information, Message = "Refund {RefundId}: attempt {Attempt} did not settle it ({Reason}); trying again")]
    private static partial void AttemptFailed(ILogger logger, string refundId, int attempt, string reason);
}
