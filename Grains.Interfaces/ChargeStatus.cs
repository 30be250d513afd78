namespace FinCore.Grains;

/// <summary>The status machine of API.md. <see cref="Succeeded"/>, <see cref="Failed"/> and <see cref="Canceled"/> are terminal.</summary>
[GenerateSerializer, Alias("fincore.charge-status")]
public enum ChargeStatus
{
    Created,
    Processing,
    Succeeded,
    Failed,
    Canceled,
    DeadLettered,
}
