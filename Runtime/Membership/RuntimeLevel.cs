namespace FinCore.Runtime.Membership;

/// <summary>The storage formats a silo's runtime can read, recorded in its membership row. A silo writes a format an
/// older runtime cannot read only while every live silo's level includes it (<see cref="MembershipView.LowestLiveLevel"/>),
/// so during a rolling upgrade the old silos never meet data they would misread; once the last of them is gone the new
/// format is written. The level only grows: a rollback to a runtime below a level already written is not supported.</summary>
public static class RuntimeLevel
{
    /// <summary>Grain states kept in a row of an application table (<see cref="Persistence.RowStateStorage{TState}"/>).</summary>
    public const int RowStates = 1;

    /// <summary>This runtime's level.</summary>
    public const int Current = RowStates;
}
