namespace FinCore.Grains;

/// <summary>Which status changes are allowed. Everything that changes a charge's status asks here first, so
/// a status never moves backwards and terminal states are absorbing.</summary>
public static class ChargeStatusMachine
{
    public static bool IsTerminal(ChargeStatus s) => s is ChargeStatus.Succeeded or ChargeStatus.Failed or ChargeStatus.Canceled;

    public static bool CanMove(ChargeStatus from, ChargeStatus to) => (from, to) switch
    {
        (ChargeStatus.Created, ChargeStatus.Processing) => true,
        (ChargeStatus.Created, ChargeStatus.Canceled) => true,
        (ChargeStatus.Created, ChargeStatus.Failed) => true, // risk blocked
        (ChargeStatus.Processing, ChargeStatus.Succeeded) => true,
        (ChargeStatus.Processing, ChargeStatus.Failed) => true,
        (ChargeStatus.Processing, ChargeStatus.DeadLettered) => true,
        (ChargeStatus.DeadLettered, ChargeStatus.Processing) => true, // operator retry
        (ChargeStatus.DeadLettered, ChargeStatus.Failed) => true, // operator discard
        _ => false,
    };

    public static string ToApi(this ChargeStatus s) => s switch
    {
        ChargeStatus.Created => "created",
        ChargeStatus.Processing => "processing",
        ChargeStatus.Succeeded => "succeeded",
        ChargeStatus.Failed => "failed",
        ChargeStatus.Canceled => "canceled",
        ChargeStatus.DeadLettered => "dead_lettered",
        _ => throw new ArgumentOutOfRangeException(nameof(s)),
    };

    public static bool TryParseApi(string? value, out ChargeStatus status)
    {
        foreach (var s in Enum.GetValues<ChargeStatus>())
        {
            if (s.ToApi() == value)
            {
                status = s;
                return true;
            }
        }

        status = default;
        return false;
    }
}
