using FinCore.Runtime;

namespace FinCore.Grains;

/// <summary>One charge, keyed <c>{tenant}/{charge}</c>: the tenant is part of the identity, so one tenant can
/// never address another's charge.</summary>
[GrainType("charge")]
public interface IChargeGrain : IGrainWithStringKey
{
    /// <summary>Creates the charge durably, or replays the first result for the same request.</summary>
    [Idempotent]
    Task<CreateChargeResult> Create(CreateChargeCommand command);

    /// <summary>The charge; <see cref="ChargeNotFoundException"/> when it does not exist.</summary>
    [Idempotent]
    Task<Charge> Get();

    /// <summary>Cancels a charge still in <c>created</c>; <see cref="InvalidChargeStateException"/> otherwise.</summary>
    [Idempotent]
    Task<Charge> Cancel();
}
