namespace FinCore.Runtime.Membership;

/// <summary>A silo's membership status. Only <see cref="Active"/> silos own part of the ring.</summary>
public enum SiloStatus : short
{
    Joining = 1,
    Active = 2,
    ShuttingDown = 3,
    Dead = 4,
}
