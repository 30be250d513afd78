using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace FinCore.Grains.Psp;

/// <summary>First attempts, for the charges created on this silo (<see cref="IPspSenderGrain"/>). A stateless worker,
/// reentrant: its activations (up to one per core) each carry many attempts at once, and no charge's attempt costs an
/// activation of its own, a directory entry or a write. Whatever does not settle the charge goes to the charge's
/// <see cref="IPspRetryGrain"/>, which retries it durably.</summary>
[GrainType("psp-sender")]
[StatelessWorker, Reentrant]
public sealed partial class PspSenderGrain(PspClient psp, ILogger<PspSenderGrain> logger) : Grain, IPspSenderGrain
{
    /// <summary>The one key the charges call (a stateless worker's activations are local to their caller).</summary>
    public const long Key = 0;

    public async Task Send(PspWork work)
    {
        var payment = work.Payment;
        var key = Ids.ChargeKey(payment.TenantId, payment.ChargeId);
        var at = DateTime.UtcNow;
        PspCallResult result;
        using (PaymentsTelemetry.StartAttempt(payment.ChargeId, 1, work.TraceParent))
        {
            result = await psp.ChargeAsync(payment, CancellationToken.None);
        }

        PspFirstAttempt first;
        switch (result.Kind)
        {
            case PspResultKind.Captured or PspResultKind.Declined:
                try
                {
                    await GrainFactory.Grain<IChargeGrain>(key).ApplyPspResult(result.ToOutcome(), 1);
                    return;
                }
                catch (Exception e) when (e is not InvalidChargeStateException)
                {
                    // The PSP settled it, the charge did not record it (its storage failed, say): the retry grain asks the
                    // PSP again and records the answer.
                    first = new PspFirstAttempt(at, InDoubt: true, Pending: false, "recording the PSP's answer failed: " + e.Message, CircuitOpen: false);
                }

                break;
            case PspResultKind.Pending:
                first = new PspFirstAttempt(at, InDoubt: false, Pending: true, null, CircuitOpen: false);
                break;
            default:
                // Retryable: refused, never received. Unknown: sent without an answer, possibly captured.
                first = new PspFirstAttempt(at, InDoubt: result.Kind != PspResultKind.Retryable, Pending: false,
                    result.Error ?? result.Kind.ToString(), result.CircuitOpen);
                break;
        }

        try
        {
            await GrainFactory.Grain<IPspRetryGrain>(key).Continue(work, first);
        }
        catch (Exception e)
        {
            HandOverFailed(logger, payment.ChargeId, e.Message);
        }
    }

    [LoggerMessage(EventId = 7210, Level = LogLevel.Warning, Message = "Charge {ChargeId}: its first attempt did not settle it and its retry grain could not take it ({Reason}); the charge sweeper hands it over")]
    private static partial void HandOverFailed(ILogger logger, string chargeId, string reason);
}
