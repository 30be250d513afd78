namespace FinCore.Runtime.Transport;

internal enum ResponseStatus : byte
{
    /// <summary>The call ran; the payload is the JSON result (empty for void).</summary>
    Ok = 0,
    /// <summary>The grain threw; the payload describes the exception.</summary>
    Exception = 1,
    /// <summary>The call did not run (no owner reachable, silo stopping, hop limit): safe to re-send.</summary>
    NotDelivered = 2,
}
